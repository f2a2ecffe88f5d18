import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

// Sum of the multiples of d in [1, n]; every value stays below 2^53.
function total(n: number, d: number): number {
  const m = Math.trunc(n / d);
  return (d * m * (m + 1)) / 2;
}

const [n, a, b] = tokens.map(Number);
const both = (a / gcd(a, b)) * b;
console.log(total(n, a) + total(n, b) - total(n, both));
