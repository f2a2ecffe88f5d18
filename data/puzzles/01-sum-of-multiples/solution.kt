fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

tailrec fun gcd(a: Long, b: Long): Long = if (b == 0L) a else gcd(b, a % b)

// Sum of the multiples of d in [1, n].
fun total(n: Long, d: Long): Long {
    val m = n / d
    return d * m * (m + 1) / 2
}

fun main() {
    val (n, a, b) = readTokens().map { it.toLong() }
    val both = a / gcd(a, b) * b
    println(total(n, a) + total(n, b) - total(n, both))
}
