fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val tokens = readTokens()
    val n = tokens[0].toInt()
    val board = tokens.subList(1, 1 + n)
    val distance = IntArray(n * n) { -1 }
    distance[0] = 0
    val queue = IntArray(n * n)
    var head = 0
    var tail = 1
    val dr = intArrayOf(1, 2, 2, 1, -1, -2, -2, -1)
    val dc = intArrayOf(2, 1, -1, -2, -2, -1, 1, 2)
    while (head < tail) {
        val cell = queue[head++]
        val r = cell / n
        val c = cell % n
        for (j in 0 until 8) {
            val nr = r + dr[j]
            val nc = c + dc[j]
            if (nr < 0 || nr >= n || nc < 0 || nc >= n || board[nr][nc] != '.') continue
            if (distance[nr * n + nc] >= 0) continue
            distance[nr * n + nc] = distance[cell] + 1
            queue[tail++] = nr * n + nc
        }
    }
    println(distance[n * n - 1])
}
