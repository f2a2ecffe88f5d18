fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun period(m: Long): Long {
    var a = 0L
    var b = 1L
    var steps = 0L
    do {
        val next = (a + b) % m
        a = b
        b = next
        steps++
    } while (!(a == 0L && b == 1L))
    return steps
}

fun main() {
    val tokens = readTokens().map { it.toLong() }
    for (i in 1..tokens[0].toInt()) println(period(tokens[i]))
}
