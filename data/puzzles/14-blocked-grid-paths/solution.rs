use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

const MOD: u64 = 1_000_000_007;

fn main() {
    let t = read_tokens();
    let rows: usize = t[0].parse().unwrap();
    let cols: usize = t[1].parse().unwrap();
    let mut ways = vec![0u64; cols];
    for r in 0..rows {
        let line = t[2 + r].as_bytes();
        for c in 0..cols {
            if line[c] == b'#' {
                ways[c] = 0;
            } else if r == 0 && c == 0 {
                ways[c] = 1;
            } else if c > 0 {
                ways[c] = (ways[c] + ways[c - 1]) % MOD;
            }
        }
    }
    println!("{}", ways[cols - 1]);
}
