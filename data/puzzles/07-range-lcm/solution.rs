use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn main() {
    let t: Vec<i64> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let mut result = 1i64;
    for k in t[0]..=t[1] {
        result = result / gcd(result, k) * k;
    }
    println!("{}", result);
}
