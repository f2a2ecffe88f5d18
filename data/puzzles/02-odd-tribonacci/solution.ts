import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const n = Number(tokens[0]);
let total = n >= 1 ? 2 : 0; // T1 and T2
let [a, b, c] = [1, 1, 2];
while (c <= n) {
  if (c % 2 === 1) total += c;
  [a, b, c] = [b, c, a + b + c];
}
console.log(total);
