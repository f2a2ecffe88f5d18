import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const MOD = 1000000007;
const values = tokens.map(Number);
const [total, k] = values;
const ways = new Float64Array(total + 1);
ways[0] = 1;
for (const coin of values.slice(2, 2 + k)) {
  for (let amount = coin; amount <= total; amount++) {
    ways[amount] = (ways[amount] + ways[amount - coin]) % MOD;
  }
}
console.log(ways[total]);
