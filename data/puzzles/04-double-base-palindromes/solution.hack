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

function is_palindrome(int $n, int $base): bool {
  $reversed = 0;
  for ($m = $n; $m > 0; $m = \intdiv($m, $base)) {
    $reversed = $reversed * $base + $m % $base;
  }
  return $reversed === $n;
}

<<__EntryPoint>>
function main(): void {
  $t = read_tokens();
  $n = (int)$t[0];
  $b = (int)$t[1];
  $count = 0;
  for ($k = 1; $k <= $n; $k++) {
    if (is_palindrome($k, 10) && is_palindrome($k, $b)) {
      $count++;
    }
  }
  echo \strval($count)."\n";
}
