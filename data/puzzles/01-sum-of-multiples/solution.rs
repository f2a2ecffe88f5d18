use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

// Sum of the multiples of d in [1, n].
fn total(n: i64, d: i64) -> i64 {
    let m = n / d;
    d * m * (m + 1) / 2
}

fn main() {
    let t: Vec<i64> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let (n, a, b) = (t[0], t[1], t[2]);
    let both = a / gcd(a, b) * b;
    println!("{}", total(n, a) + total(n, b) - total(n, both));
}
