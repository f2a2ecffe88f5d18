fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val n = readTokens()[0].toLong()
    var total = if (n >= 1) 2L else 0L // T1 and T2
    var a = 1L
    var b = 1L
    var c = 2L
    while (c <= n) {
        if (c % 2 == 1L) total += c
        val next = a + b + c
        a = b
        b = c
        c = next
    }
    println(total)
}
