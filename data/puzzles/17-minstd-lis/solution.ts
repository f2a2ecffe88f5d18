import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const [n, seed, m] = tokens.map(Number);
let x = seed; // x * 48271 < 2^53: plain numbers are exact
// tails[k]: smallest last element of a rising subsequence of length k+1
const tails = new Float64Array(n);
let length = 0;
for (let i = 0; i < n; i++) {
  x = (x * 48271) % 2147483647;
  const value = x % m;
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tails[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  tails[lo] = value;
  if (lo === length) length++;
}
console.log(length);
