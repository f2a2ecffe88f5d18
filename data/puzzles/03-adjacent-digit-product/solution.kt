fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val tokens = readTokens()
    val k = tokens[0].toInt()
    val digits = tokens.drop(1).joinToString("").map { (it - '0').toLong() }
    var best = 0L
    for (start in 0..digits.size - k) {
        var product = 1L
        for (i in 0 until k) product *= digits[start + i]
        best = maxOf(best, product)
    }
    println(best)
}
