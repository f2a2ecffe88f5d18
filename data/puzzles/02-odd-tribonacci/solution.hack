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
  $n = (int)read_tokens()[0];
  $total = $n >= 1 ? 2 : 0; // T1 and T2
  $a = 1;
  $b = 1;
  $c = 2;
  while ($c <= $n) {
    if ($c % 2 === 1) {
      $total += $c;
    }
    $next = $a + $b + $c;
    $a = $b;
    $b = $c;
    $c = $next;
  }
  echo \strval($total)."\n";
}
