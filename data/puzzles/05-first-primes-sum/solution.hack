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
  $limit = 1300000; // the 100000th prime is 1299709
  $composite = filled($limit + 1, false);
  $total = 0;
  $count = 0;
  for ($p = 2; $p <= $limit && $count < $n; $p++) {
    if ($composite[$p]) {
      continue;
    }
    $total += $p;
    $count++;
    for ($m = $p * $p; $m <= $limit; $m += $p) {
      $composite[$m] = true;
    }
  }
  echo \strval($total)."\n";
}
