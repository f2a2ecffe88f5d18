use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let t = read_tokens();
    let k: usize = t[0].parse().unwrap();
    let digits: Vec<i64> = t[1..].concat().bytes().map(|ch| (ch - b'0') as i64).collect();
    let best = digits.windows(k).map(|w| w.iter().product::<i64>()).max().unwrap_or(0);
    println!("{}", best);
}
