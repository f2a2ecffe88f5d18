import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const MOD = 1000000007;
// Euler's pentagonal number theorem:
// p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
const n = Number(tokens[0]);
const p = new Float64Array(n + 1);
p[0] = 1;
for (let m = 1; m <= n; m++) {
  let total = 0;
  for (let k = 1; ; k++) {
    const first = m - (k * (3 * k - 1)) / 2;
    if (first < 0) break;
    let term = p[first];
    const second = m - (k * (3 * k + 1)) / 2;
    if (second >= 0) term += p[second];
    total = k % 2 === 1 ? (total + term) % MOD : (total - (term % MOD) + MOD) % MOD;
  }
  p[m] = total;
}
console.log(p[n]);
