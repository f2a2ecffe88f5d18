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
  $total = (int)$t[0];
  $k = (int)$t[1];
  $ways = filled($total + 1, 0);
  $ways[0] = 1;
  for ($i = 0; $i < $k; $i++) {
    $coin = (int)$t[2 + $i];
    for ($amount = $coin; $amount <= $total; $amount++) {
      $ways[$amount] = ($ways[$amount] + $ways[$amount - $coin]) % MOD;
    }
  }
  echo \strval($ways[$total])."\n";
}
