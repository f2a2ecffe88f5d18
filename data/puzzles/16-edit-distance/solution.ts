import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const [a, b] = tokens;
let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
let current = new Array<number>(b.length + 1).fill(0);
for (let i = 1; i <= a.length; i++) {
  current[0] = i;
  for (let j = 1; j <= b.length; j++) {
    const cost = a[i - 1] === b[j - 1] ? 0 : 1;
    current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
  }
  [previous, current] = [current, previous];
}
console.log(previous[b.length]);
