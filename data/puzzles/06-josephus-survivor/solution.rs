use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let t: Vec<i64> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let (n, k) = (t[0], t[1]);
    let mut survivor = 0i64; // zero-based survivor among the first i people
    for i in 2..=n {
        survivor = (survivor + k) % i;
    }
    println!("{}", survivor + 1);
}
