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
  $distance = filled($n * $n, -1);
  $distance[0] = 0;
  $queue = vec[0];
  $dr = vec[1, 2, 2, 1, -1, -2, -2, -1];
  $dc = vec[2, 1, -1, -2, -2, -1, 1, 2];
  for ($head = 0; $head < \count($queue); $head++) {
    $cell = $queue[$head];
    $r = \intdiv($cell, $n);
    $c = $cell % $n;
    for ($j = 0; $j < 8; $j++) {
      $nr = $r + $dr[$j];
      $nc = $c + $dc[$j];
      if ($nr < 0 || $nr >= $n || $nc < 0 || $nc >= $n || $t[1 + $nr][$nc] !== '.') {
        continue;
      }
      if ($distance[$nr * $n + $nc] >= 0) {
        continue;
      }
      $distance[$nr * $n + $nc] = $distance[$cell] + 1;
      $queue[] = $nr * $n + $nc;
    }
  }
  echo \strval($distance[$n * $n - 1])."\n";
}
