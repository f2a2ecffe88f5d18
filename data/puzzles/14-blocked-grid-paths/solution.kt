fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

const val MOD = 1_000_000_007L

fun main() {
    val tokens = readTokens()
    val rows = tokens[0].toInt()
    val cols = tokens[1].toInt()
    val ways = LongArray(cols)
    for (r in 0 until rows) {
        val line = tokens[2 + r]
        for (c in 0 until cols) {
            when {
                line[c] == '#' -> ways[c] = 0
                r == 0 && c == 0 -> ways[c] = 1
                c > 0 -> ways[c] = (ways[c] + ways[c - 1]) % MOD
            }
        }
    }
    println(ways[cols - 1])
}
