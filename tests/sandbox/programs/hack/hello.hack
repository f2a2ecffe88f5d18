<<__EntryPoint>>
function main(): void {
  echo "hello, lockstep\n";
}
