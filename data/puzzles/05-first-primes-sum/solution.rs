use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let n: usize = read_tokens()[0].parse().unwrap();
    const LIMIT: usize = 1_300_000; // the 100000th prime is 1299709
    let mut composite = vec![false; LIMIT + 1];
    let (mut total, mut count) = (0i64, 0usize);
    let mut p = 2;
    while p <= LIMIT && count < n {
        if !composite[p] {
            total += p as i64;
            count += 1;
            let mut m = p * p;
            while m <= LIMIT {
                composite[m] = true;
                m += p;
            }
        }
        p += 1;
    }
    println!("{}", total);
}
