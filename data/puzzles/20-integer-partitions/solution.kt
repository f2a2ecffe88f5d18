fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

const val MOD = 1_000_000_007L

// Euler's pentagonal number theorem:
// p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
fun main() {
    val n = readTokens()[0].toInt()
    val p = LongArray(n + 1)
    p[0] = 1
    for (m in 1..n) {
        var total = 0L
        var k = 1L
        while (true) {
            val first = m - k * (3 * k - 1) / 2
            if (first < 0) break
            var term = p[first.toInt()]
            val second = m - k * (3 * k + 1) / 2
            if (second >= 0) term += p[second.toInt()]
            total = if (k % 2 == 1L) (total + term) % MOD else (total - term % MOD + MOD) % MOD
            k++
        }
        p[m] = total
    }
    println(p[n])
}
