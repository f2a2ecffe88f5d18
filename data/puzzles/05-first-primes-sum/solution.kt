fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val n = readTokens()[0].toInt()
    val limit = 1300000 // the 100000th prime is 1299709
    val composite = BooleanArray(limit + 1)
    var total = 0L
    var count = 0
    var p = 2
    while (p <= limit && count < n) {
        if (!composite[p]) {
            total += p
            count++
            var m = p.toLong() * p
            while (m <= limit) {
                composite[m.toInt()] = true
                m += p
            }
        }
        p++
    }
    println(total)
}
