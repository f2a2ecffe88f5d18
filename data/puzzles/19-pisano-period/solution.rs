use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn period(m: u64) -> u64 {
    let (mut a, mut b, mut steps) = (0u64, 1u64, 0u64);
    loop {
        let next = (a + b) % m;
        a = b;
        b = next;
        steps += 1;
        if a == 0 && b == 1 {
            return steps;
        }
    }
}

fn main() {
    let t: Vec<u64> = read_tokens().iter().map(|s| s.parse().unwrap()).collect();
    for &m in &t[1..1 + t[0] as usize] {
        println!("{}", period(m));
    }
}
