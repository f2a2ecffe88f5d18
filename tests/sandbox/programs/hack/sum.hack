<<__EntryPoint>>
function main(): void {
  $input = \file_get_contents('php://stdin');
  $total = 0;
  foreach (\preg_split('/\s+/', \trim($input)) as $token) {
    if ($token !== '') {
      $total += (int)$token;
    }
  }
  echo $total, "\n";
}
