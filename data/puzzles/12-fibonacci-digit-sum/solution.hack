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

const int BASE = 1000000000;

// x + y; numbers are little-endian limbs of base 10^9.
function add(vec<int> $x, vec<int> $y): vec<int> {
  $sum = vec[];
  $carry = 0;
  for ($i = 0; $i < \count($x) || $i < \count($y) || $carry > 0; $i++) {
    $limb = $carry + ($i < \count($x) ? $x[$i] : 0) + ($i < \count($y) ? $y[$i] : 0);
    $carry = \intdiv($limb, BASE);
    $sum[] = $limb % BASE;
  }
  return $sum;
}

<<__EntryPoint>>
function main(): void {
  $n = (int)read_tokens()[0];
  $a = vec[1];
  $b = vec[1];
  for ($i = 1; $i < $n; $i++) {
    $next = add($a, $b);
    $a = $b;
    $b = $next;
  }
  $digit_sum = 0;
  foreach ($a as $limb) {
    for ($rest = $limb; $rest > 0; $rest = \intdiv($rest, 10)) {
      $digit_sum += $rest % 10;
    }
  }
  echo \strval($digit_sum)."\n";
}
