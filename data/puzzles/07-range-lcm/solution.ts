import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

const [a, b] = tokens.map(Number);
let result = 1; // at most lcm(1..40) < 2^53, so plain numbers are exact
for (let k = a; k <= b; k++) result = (result / gcd(result, k)) * k;
console.log(result);
