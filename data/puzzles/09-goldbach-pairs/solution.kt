fun readTokens(): List<String> =
    System.`in`.bufferedReader().readText().split(Regex("\\s+")).filter { it.isNotEmpty() }

fun main() {
    val tokens = readTokens().map { it.toInt() }
    val queries = tokens.subList(1, 1 + tokens[0])
    val limit = queries.maxOrNull()!!
    val composite = BooleanArray(limit + 1)
    composite[0] = true
    composite[1] = true
    var p = 2
    while (p.toLong() * p <= limit) {
        if (!composite[p]) {
            var m = p * p
            while (m <= limit) {
                composite[m] = true
                m += p
            }
        }
        p++
    }
    val out = StringBuilder()
    for (m in queries) {
        out.append((2..m / 2).count { !composite[it] && !composite[m - it] }).append('\n')
    }
    print(out)
}
