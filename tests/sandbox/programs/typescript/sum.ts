import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((t: string) => t.length > 0);
let total: bigint = 0n;
for (const t of tokens) total += BigInt(t);
console.log(total.toString());
