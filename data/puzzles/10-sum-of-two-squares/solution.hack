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
  $hit = filled($n + 1, false);
  for ($a = 0; $a * $a <= $n; $a++) {
    for ($b = $a; $a * $a + $b * $b <= $n; $b++) {
      $hit[$a * $a + $b * $b] = true;
    }
  }
  $count = 0;
  for ($k = 1; $k <= $n; $k++) {
    if ($hit[$k]) {
      $count++;
    }
  }
  echo \strval($count)."\n";
}
