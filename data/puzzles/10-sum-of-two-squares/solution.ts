import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const n = Number(tokens[0]);
const hit = new Uint8Array(n + 1);
for (let a = 0; a * a <= n; a++) {
  for (let b = a; a * a + b * b <= n; b++) hit[a * a + b * b] = 1;
}
let count = 0;
for (let k = 1; k <= n; k++) count += hit[k];
console.log(count);
