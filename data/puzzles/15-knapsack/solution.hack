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
  $capacity = (int)$t[0];
  $n = (int)$t[1];
  $best = filled($capacity + 1, 0);
  for ($i = 0; $i < $n; $i++) {
    $weight = (int)$t[2 + 2 * $i];
    $value = (int)$t[3 + 2 * $i];
    for ($w = $capacity; $w >= $weight; $w--) {
      $best[$w] = \max($best[$w], $best[$w - $weight] + $value);
    }
  }
  echo \strval($best[$capacity])."\n";
}
