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

const int MOD = 1000000007;

<<__EntryPoint>>
function main(): void {
  $t = read_tokens();
  $rows = (int)$t[0];
  $cols = (int)$t[1];
  $ways = filled($cols, 0);
  for ($r = 0; $r < $rows; $r++) {
    $line = $t[2 + $r];
    for ($c = 0; $c < $cols; $c++) {
      if ($line[$c] === '#') {
        $ways[$c] = 0;
      } else if ($r === 0 && $c === 0) {
        $ways[$c] = 1;
      } else if ($c > 0) {
        $ways[$c] = ($ways[$c] + $ways[$c - 1]) % MOD;
      }
    }
  }
  echo \strval($ways[$cols - 1])."\n";
}
