fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val n = readTokens()[0].toInt()
    val hit = BooleanArray(n + 1)
    var a = 0L
    while (a * a <= n) {
        var b = a
        while (a * a + b * b <= n) {
            hit[(a * a + b * b).toInt()] = true
            b++
        }
        a++
    }
    println((1..n).count { hit[it] })
}
