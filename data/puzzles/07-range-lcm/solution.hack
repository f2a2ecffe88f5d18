function read_tokens(): vec<string> {
  $tokens = vec[];
  foreach (\preg_split('/\s+/', \trim(\file_get_contents('php://stdin'))) as $token) {
    if ($token !== '') {
      $tokens[] = (string)$token;
    }
  }
  return $tokens;
}

function filled<T>(int $n, T $value): vec<T> {
  $v = vec[];
  for ($i = 0; $i < $n; $i++) {
    $v[] = $value;
  }
  return $v;
}

function gcd(int $a, int $b): int {
  return $b === 0 ? $a : gcd($b, $a % $b);
}

<<__EntryPoint>>
function main(): void {
  $t = read_tokens();
  $result = 1;
  for ($k = (int)$t[0]; $k <= (int)$t[1]; $k++) {
    $result = \intdiv($result, gcd($result, $k)) * $k;
  }
  echo \strval($result)."\n";
}
