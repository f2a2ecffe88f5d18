fun main() {
    println("hello, lockstep")
}
