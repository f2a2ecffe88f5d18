use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn is_palindrome(n: u64, base: u64) -> bool {
    let mut reversed = 0;
    let mut m = n;
    while m > 0 {
        reversed = reversed * base + m % base;
        m /= base;
    }
    reversed == n
}

fn main() {
    let t: Vec<u64> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let count = (1..=t[0]).filter(|&k| is_palindrome(k, 10) && is_palindrome(k, t[1])).count();
    println!("{}", count);
}
