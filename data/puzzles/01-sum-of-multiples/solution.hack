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

// Sum of the multiples of d in [1, n].
function total(int $n, int $d): int {
  $m = \intdiv($n, $d);
  return \intdiv($d * $m * ($m + 1), 2);
}

<<__EntryPoint>>
function main(): void {
  $t = read_tokens();
  $n = (int)$t[0];
  $a = (int)$t[1];
  $b = (int)$t[2];
  $both = \intdiv($a, gcd($a, $b)) * $b;
  echo \strval(total($n, $a) + total($n, $b) - total($n, $both))."\n";
}
