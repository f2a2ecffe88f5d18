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
  $k = (int)$t[0];
  $digits = "";
  for ($i = 1; $i < \count($t); $i++) {
    $digits .= $t[$i];
  }
  $best = 0;
  for ($start = 0; $start + $k <= \strlen($digits); $start++) {
    $product = 1;
    for ($i = 0; $i < $k; $i++) {
      $product *= \ord($digits[$start + $i]) - \ord('0');
    }
    $best = \max($best, $product);
  }
  echo \strval($best)."\n";
}
