import * as fs from "fs";

const tokens: string[] = fs.readFileSync(0, "utf8").split(/\s+/).filter((s) => s.length > 0);

const n = Number(tokens[0]);
const board = tokens.slice(1, 1 + n);
const distance = new Int32Array(n * n).fill(-1);
distance[0] = 0;
const queue = new Int32Array(n * n);
let head = 0;
let tail = 1;
const dr = [1, 2, 2, 1, -1, -2, -2, -1];
const dc = [2, 1, -1, -2, -2, -1, 1, 2];
while (head < tail) {
  const cell = queue[head++];
  const r = Math.trunc(cell / n);
  const c = cell % n;
  for (let j = 0; j < 8; j++) {
    const nr = r + dr[j];
    const nc = c + dc[j];
    if (nr < 0 || nr >= n || nc < 0 || nc >= n || board[nr][nc] !== ".") continue;
    if (distance[nr * n + nc] >= 0) continue;
    distance[nr * n + nc] = distance[cell] + 1;
    queue[tail++] = nr * n + nc;
  }
}
console.log(distance[n * n - 1]);
