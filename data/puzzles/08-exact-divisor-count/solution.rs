use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let t: Vec<usize> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let (n, k) = (t[0], t[1]);
    let mut divisors = vec![0usize; n + 1];
    for d in 1..=n {
        for m in (d..=n).step_by(d) {
            divisors[m] += 1;
        }
    }
    println!("{}", (1..=n).filter(|&m| divisors[m] == k).count());
}
