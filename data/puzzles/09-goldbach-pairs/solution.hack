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
  $q = (int)$t[0];
  $queries = vec[];
  $limit = 0;
  for ($i = 0; $i < $q; $i++) {
    $queries[] = (int)$t[1 + $i];
    $limit = \max($limit, $queries[$i]);
  }
  $composite = filled($limit + 1, false);
  $composite[0] = true;
  $composite[1] = true;
  for ($p = 2; $p * $p <= $limit; $p++) {
    if ($composite[$p]) {
      continue;
    }
    for ($m = $p * $p; $m <= $limit; $m += $p) {
      $composite[$m] = true;
    }
  }
  foreach ($queries as $m) {
    $pairs = 0;
    for ($p = 2; $p <= \intdiv($m, 2); $p++) {
      if (!$composite[$p] && !$composite[$m - $p]) {
        $pairs++;
      }
    }
    echo \strval($pairs)."\n";
  }
}
