fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun isPalindrome(n: Int, base: Int): Boolean {
    var reversed = 0
    var m = n
    while (m > 0) {
        reversed = reversed * base + m % base
        m /= base
    }
    return reversed == n
}

fun main() {
    val (n, b) = readTokens().map { it.toInt() }
    println((1..n).count { isPalindrome(it, 10) && isPalindrome(it, b) })
}
