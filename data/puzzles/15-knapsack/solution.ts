import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const values = tokens.map(Number);
const [capacity, n] = values;
const best = new Float64Array(capacity + 1);
for (let i = 0; i < n; i++) {
  const weight = values[2 + 2 * i];
  const value = values[3 + 2 * i];
  for (let w = capacity; w >= weight; w--) best[w] = Math.max(best[w], best[w - weight] + value);
}
console.log(best[capacity]);
