fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val n = readTokens()[0].toInt()
    val phi = LongArray(n + 1) { it.toLong() }
    for (p in 2..n) {
        if (phi[p] != p.toLong()) continue // not prime: a smaller prime already touched it
        var m = p
        while (m <= n) {
            phi[m] -= phi[m] / p
            m += p
        }
    }
    var sum = 0L
    for (i in 1..n) sum += phi[i]
    println(2 * sum - 1)
}
