import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

function period(m: number): number {
  let a = 0;
  let b = 1;
  let steps = 0;
  do {
    [a, b] = [b, (a + b) % m];
    steps++;
  } while (!(a === 0 && b === 1));
  return steps;
}

const values = tokens.map(Number);
const lines: string[] = [];
for (let i = 1; i <= values[0]; i++) lines.push(String(period(values[i])));
console.log(lines.join("\n"));
