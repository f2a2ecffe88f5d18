import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const values = tokens.map(Number);
const queries = values.slice(1, 1 + values[0]);
const limit = Math.max(...queries);
const composite = new Uint8Array(limit + 1);
composite[0] = composite[1] = 1;
for (let p = 2; p * p <= limit; p++) {
  if (composite[p]) continue;
  for (let m = p * p; m <= limit; m += p) composite[m] = 1;
}
const lines: string[] = [];
for (const m of queries) {
  let pairs = 0;
  for (let p = 2; p <= m / 2; p++) if (!composite[p] && !composite[m - p]) pairs++;
  lines.push(String(pairs));
}
console.log(lines.join("\n"));
