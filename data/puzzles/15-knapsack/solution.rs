use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let t: Vec<usize> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    let (capacity, n) = (t[0], t[1]);
    let mut best = vec![0u64; capacity + 1];
    for i in 0..n {
        let (weight, value) = (t[2 + 2 * i], t[3 + 2 * i] as u64);
        if weight > capacity {
            continue;
        }
        for w in (weight..=capacity).rev() {
            best[w] = best[w].max(best[w - weight] + value);
        }
    }
    println!("{}", best[capacity]);
}
