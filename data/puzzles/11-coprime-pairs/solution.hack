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
  $phi = vec[];
  for ($i = 0; $i <= $n; $i++) {
    $phi[] = $i;
  }
  for ($p = 2; $p <= $n; $p++) {
    if ($phi[$p] !== $p) {
      continue; // not prime: a smaller prime already touched it
    }
    for ($m = $p; $m <= $n; $m += $p) {
      $phi[$m] -= \intdiv($phi[$m], $p);
    }
  }
  $sum = 0;
  for ($i = 1; $i <= $n; $i++) {
    $sum += $phi[$i];
  }
  echo \strval(2 * $sum - 1)."\n";
}
