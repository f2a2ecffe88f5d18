use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let n: usize = read_tokens()[0].parse().unwrap();
    let mut phi: Vec<i64> = (0..=n as i64).collect();
    for p in 2..=n {
        if phi[p] != p as i64 {
            continue; // not prime: a smaller prime already touched it
        }
        for m in (p..=n).step_by(p) {
            phi[m] -= phi[m] / p as i64;
        }
    }
    let sum: i64 = phi[1..].iter().sum();
    println!("{}", 2 * sum - 1);
}
