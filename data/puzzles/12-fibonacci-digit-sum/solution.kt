fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

const val BASE = 1_000_000_000L

// x + y; numbers are little-endian limbs of base 10^9.
fun add(x: List<Long>, y: List<Long>): List<Long> {
    val sum = ArrayList<Long>(maxOf(x.size, y.size) + 1)
    var carry = 0L
    var i = 0
    while (i < x.size || i < y.size || carry > 0) {
        val limb = carry + (if (i < x.size) x[i] else 0L) + (if (i < y.size) y[i] else 0L)
        carry = limb / BASE
        sum.add(limb % BASE)
        i++
    }
    return sum
}

fun main() {
    val n = readTokens()[0].toInt()
    var a: List<Long> = listOf(1L)
    var b: List<Long> = listOf(1L)
    for (i in 1 until n) {
        val next = add(a, b)
        a = b
        b = next
    }
    var digitSum = 0L
    for (limb in a) {
        var rest = limb
        while (rest > 0) {
            digitSum += rest % 10
            rest /= 10
        }
    }
    println(digitSum)
}
