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
  $k = (int)$t[1];
  $survivor = 0; // zero-based survivor among the first i people
  for ($i = 2; $i <= $n; $i++) {
    $survivor = ($survivor + $k) % $i;
  }
  echo \strval($survivor + 1)."\n";
}
