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
  $divisors = filled($n + 1, 0);
  for ($d = 1; $d <= $n; $d++) {
    for ($m = $d; $m <= $n; $m += $d) {
      $divisors[$m] += 1;
    }
  }
  $count = 0;
  for ($m = 1; $m <= $n; $m++) {
    if ($divisors[$m] === $k) {
      $count++;
    }
  }
  echo \strval($count)."\n";
}
