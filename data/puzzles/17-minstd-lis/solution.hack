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

<<__EntryPoint>>
function main(): void {
  $t = read_tokens();
  $n = (int)$t[0];
  $x = (int)$t[1];
  $m = (int)$t[2];
  // tails[k]: smallest last element of a rising subsequence of length k+1
  $tails = filled($n, 0);
  $length = 0;
  for ($i = 0; $i < $n; $i++) {
    $x = ($x * 48271) % 2147483647;
    $value = $x % $m;
    $lo = 0;
    $hi = $length;
    while ($lo < $hi) {
      $mid = \intdiv($lo + $hi, 2);
      if ($tails[$mid] < $value) {
        $lo = $mid + 1;
      } else {
        $hi = $mid;
      }
    }
    $tails[$lo] = $value;
    if ($lo === $length) {
      $length++;
    }
  }
  echo \strval($length)."\n";
}
