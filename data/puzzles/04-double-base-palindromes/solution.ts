import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

function isPalindrome(n: number, base: number): boolean {
  let reversed = 0;
  for (let m = n; m > 0; m = Math.trunc(m / base)) reversed = reversed * base + (m % base);
  return reversed === n;
}

const [n, b] = tokens.map(Number);
let count = 0;
for (let k = 1; k <= n; k++) {
  if (isPalindrome(k, 10) && isPalindrome(k, b)) count++;
}
console.log(count);
