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

function period(int $m): int {
  $a = 0;
  $b = 1;
  $steps = 0;
  do {
    $next = ($a + $b) % $m;
    $a = $b;
    $b = $next;
    $steps++;
  } while (!($a === 0 && $b === 1));
  return $steps;
}

<<__EntryPoint>>
function main(): void {
  $t = read_tokens();
  $q = (int)$t[0];
  for ($i = 1; $i <= $q; $i++) {
    echo \strval(period((int)$t[$i]))."\n";
  }
}
