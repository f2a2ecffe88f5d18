fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

tailrec fun gcd(a: Long, b: Long): Long = if (b == 0L) a else gcd(b, a % b)

fun main() {
    val (a, b) = readTokens().map { it.toLong() }
    var result = 1L
    for (k in a..b) result = result / gcd(result, k) * k
    println(result)
}
