import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const [n, k] = tokens.map(Number);
const divisors = new Int32Array(n + 1);
for (let d = 1; d <= n; d++) {
  for (let m = d; m <= n; m += d) divisors[m]++;
}
let count = 0;
for (let m = 1; m <= n; m++) if (divisors[m] === k) count++;
console.log(count);
