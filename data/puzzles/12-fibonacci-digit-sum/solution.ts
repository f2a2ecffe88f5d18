import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const BASE = 1000000000;

// x + y; numbers are little-endian limbs of base 10^9.
function add(x: number[], y: number[]): number[] {
  const sum: number[] = [];
  let carry = 0;
  for (let i = 0; i < x.length || i < y.length || carry > 0; i++) {
    const limb = carry + (i < x.length ? x[i] : 0) + (i < y.length ? y[i] : 0);
    carry = limb >= BASE ? 1 : 0;
    sum.push(limb - carry * BASE);
  }
  return sum;
}

const n = Number(tokens[0]);
let a = [1];
let b = [1];
for (let i = 1; i < n; i++) [a, b] = [b, add(a, b)];
let digitSum = 0;
for (const limb of a) for (const ch of String(limb)) digitSum += Number(ch);
console.log(digitSum);
