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
  $a = $t[0];
  $b = $t[1];
  $la = \strlen($a);
  $lb = \strlen($b);
  $previous = vec[];
  for ($j = 0; $j <= $lb; $j++) {
    $previous[] = $j;
  }
  $current = filled($lb + 1, 0);
  for ($i = 1; $i <= $la; $i++) {
    $current[0] = $i;
    for ($j = 1; $j <= $lb; $j++) {
      $cost = $a[$i - 1] === $b[$j - 1] ? 0 : 1;
      $current[$j] = \min($previous[$j] + 1, $current[$j - 1] + 1, $previous[$j - 1] + $cost);
    }
    $swap = $previous;
    $previous = $current;
    $current = $swap;
  }
  echo \strval($previous[$lb])."\n";
}
