use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let t: Vec<i64> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let (n, mut x, m) = (t[0], t[1], t[2]);
    // tails[k]: smallest last element of a rising subsequence of length k+1
    let mut tails: Vec<i64> = Vec::new();
    for _ in 0..n {
        x = x * 48271 % 2147483647;
        let value = x % m;
        let position = tails.partition_point(|&v| v < value);
        if position == tails.len() {
            tails.push(value);
        } else {
            tails[position] = value;
        }
    }
    println!("{}", tails.len());
}
