import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const MOD = 1000000007;
const rows = Number(tokens[0]);
const cols = Number(tokens[1]);
const ways = new Float64Array(cols);
for (let r = 0; r < rows; r++) {
  const line = tokens[2 + r];
  for (let c = 0; c < cols; c++) {
    if (line[c] === "#") ways[c] = 0;
    else if (r === 0 && c === 0) ways[c] = 1;
    else if (c > 0) ways[c] = (ways[c] + ways[c - 1]) % MOD;
  }
}
console.log(ways[cols - 1]);
