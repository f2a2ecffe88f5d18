fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val (n, k) = readTokens().map { it.toInt() }
    val divisors = IntArray(n + 1)
    for (d in 1..n) {
        var m = d
        while (m <= n) {
            divisors[m]++
            m += d
        }
    }
    println((1..n).count { divisors[it] == k })
}
