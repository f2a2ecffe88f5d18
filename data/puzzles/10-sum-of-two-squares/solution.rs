use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let n: usize = read_tokens()[0].parse().unwrap();
    let mut hit = vec![false; n + 1];
    let mut a = 0;
    while a * a <= n {
        let mut b = a;
        while a * a + b * b <= n {
            hit[a * a + b * b] = true;
            b += 1;
        }
        a += 1;
    }
    println!("{}", hit[1..].iter().filter(|&&h| h).count());
}
