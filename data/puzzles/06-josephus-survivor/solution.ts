import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const [n, k] = tokens.map(Number);
let survivor = 0; // zero-based survivor among the first i people
for (let i = 2; i <= n; i++) survivor = (survivor + k) % i;
console.log(survivor + 1);
