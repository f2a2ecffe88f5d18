fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val tokens = readTokens().map { it.toLong() }
    val capacity = tokens[0].toInt()
    val n = tokens[1].toInt()
    val best = LongArray(capacity + 1)
    for (i in 0 until n) {
        val weight = tokens[2 + 2 * i].toInt()
        val value = tokens[3 + 2 * i]
        for (w in capacity downTo weight) best[w] = maxOf(best[w], best[w - weight] + value)
    }
    println(best[capacity])
}
