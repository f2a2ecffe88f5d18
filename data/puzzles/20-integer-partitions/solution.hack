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

// Euler's pentagonal number theorem:
// p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
<<__EntryPoint>>
function main(): void {
  $n = (int)read_tokens()[0];
  $p = filled($n + 1, 0);
  $p[0] = 1;
  for ($m = 1; $m <= $n; $m++) {
    $total = 0;
    for ($k = 1; ; $k++) {
      $first = $m - \intdiv($k * (3 * $k - 1), 2);
      if ($first < 0) {
        break;
      }
      $term = $p[$first];
      $second = $m - \intdiv($k * (3 * $k + 1), 2);
      if ($second >= 0) {
        $term += $p[$second];
      }
      if ($k % 2 === 1) {
        $total = ($total + $term) % MOD;
      } else {
        $total = ($total - $term % MOD + MOD) % MOD;
      }
    }
    $p[$m] = $total;
  }
  echo \strval($p[$n])."\n";
}
