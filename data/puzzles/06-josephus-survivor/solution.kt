fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val (n, k) = readTokens().map { it.toLong() }
    var survivor = 0L // zero-based survivor among the first i people
    for (i in 2L..n) survivor = (survivor + k) % i
    println(survivor + 1)
}
