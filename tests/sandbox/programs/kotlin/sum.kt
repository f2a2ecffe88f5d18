fun main() {
    val total = generateSequence(::readLine)
        .flatMap { it.split(' ', '\t').filter(String::isNotEmpty).asSequence() }
        .sumOf { it.toLong() }
    println(total)
}
