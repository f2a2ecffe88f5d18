fn main() {
    println!("hello, lockstep");
}
