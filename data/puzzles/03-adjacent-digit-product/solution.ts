import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const k = Number(tokens[0]);
const digits: number[] = tokens.slice(1).join("").split("").map(Number);
let best = 0;
for (let start = 0; start + k <= digits.length; start++) {
  let product = 1;
  for (let i = 0; i < k; i++) product *= digits[start + i];
  best = Math.max(best, product);
}
console.log(best);
