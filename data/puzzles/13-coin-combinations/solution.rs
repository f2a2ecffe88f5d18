use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

const MOD: u64 = 1_000_000_007;

fn main() {
    let t: Vec<usize> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let (total, k) = (t[0], t[1]);
    let mut ways = vec![0u64; total + 1];
    ways[0] = 1;
    for &coin in &t[2..2 + k] {
        for amount in coin..=total {
            ways[amount] = (ways[amount] + ways[amount - coin]) % MOD;
        }
    }
    println!("{}", ways[total]);
}
