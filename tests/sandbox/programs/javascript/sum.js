const fs = require("fs");
const tokens = fs.readFileSync(0, "utf8").split(/\s+/).filter((t) => t.length > 0);
let total = 0n;
for (const t of tokens) total += BigInt(t);
console.log(total.toString());
