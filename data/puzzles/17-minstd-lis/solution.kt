fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val (n, seed, m) = readTokens().map { it.toLong() }
    var x = seed
    // tails[k]: smallest last element of a rising subsequence of length k+1
    val tails = LongArray(n.toInt())
    var length = 0
    for (i in 0 until n) {
        x = x * 48271 % 2147483647L
        val value = x % m
        var lo = 0
        var hi = length
        while (lo < hi) {
            val mid = (lo + hi) ushr 1
            if (tails[mid] < value) lo = mid + 1 else hi = mid
        }
        tails[lo] = value
        if (lo == length) length++
    }
    println(length)
}
