import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const n = Number(tokens[0]);
const limit = 1300000; // the 100000th prime is 1299709
const composite = new Uint8Array(limit + 1);
let total = 0;
let count = 0;
for (let p = 2; p <= limit && count < n; p++) {
  if (composite[p]) continue;
  total += p;
  count++;
  for (let m = p * p; m <= limit; m += p) composite[m] = 1;
}
console.log(total);
