fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

const val MOD = 1_000_000_007L

fun main() {
    val tokens = readTokens().map { it.toInt() }
    val total = tokens[0]
    val k = tokens[1]
    val ways = LongArray(total + 1)
    ways[0] = 1
    for (coin in tokens.subList(2, 2 + k)) {
        for (amount in coin..total) ways[amount] = (ways[amount] + ways[amount - coin]) % MOD
    }
    println(ways[total])
}
