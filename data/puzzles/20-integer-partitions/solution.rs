use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

const MOD: i64 = 1_000_000_007;

// Euler's pentagonal number theorem:
// p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
fn main() {
    let n: i64 = read_tokens()[0].parse().unwrap();
    let mut p = vec![0i64; n as usize + 1];
    p[0] = 1;
    for m in 1..=n {
        let mut total = 0i64;
        let mut k = 1i64;
        loop {
            let first = m - k * (3 * k - 1) / 2;
            if first < 0 {
                break;
            }
            let mut term = p[first as usize];
            let second = m - k * (3 * k + 1) / 2;
            if second >= 0 {
                term += p[second as usize];
            }
            total = if k % 2 == 1 { (total + term) % MOD } else { (total - term % MOD + MOD) % MOD };
            k += 1;
        }
        p[m as usize] = total;
    }
    println!("{}", p[n as usize]);
}
