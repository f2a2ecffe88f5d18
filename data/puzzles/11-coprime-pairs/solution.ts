import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const n = Number(tokens[0]);
const phi = new Float64Array(n + 1);
for (let i = 0; i <= n; i++) phi[i] = i;
for (let p = 2; p <= n; p++) {
  if (phi[p] !== p) continue; // not prime: a smaller prime already touched it
  for (let m = p; m <= n; m += p) phi[m] -= phi[m] / p;
}
let sum = 0;
for (let i = 1; i <= n; i++) sum += phi[i];
console.log(2 * sum - 1);
