use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let t: Vec<usize> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let queries = &t[1..1 + t[0]];
    let limit = *queries.iter().max().unwrap();
    let mut prime = vec![true; limit + 1];
    prime[0] = false;
    prime[1] = false;
    let mut p = 2;
    while p * p <= limit {
        if prime[p] {
            for m in (p * p..=limit).step_by(p) {
                prime[m] = false;
            }
        }
        p += 1;
    }
    for &m in queries {
        let pairs = (2..=m / 2).filter(|&p| prime[p] && prime[m - p]).count();
        println!("{}", pairs);
    }
}
