use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let n: i64 = read_tokens()[0].parse().unwrap();
    let mut total: i64 = if n >= 1 { 2 } else { 0 }; // T1 and T2
    let (mut a, mut b, mut c) = (1i64, 1i64, 2i64);
    while c <= n {
        if c % 2 == 1 {
            total += c;
        }
        let next = a + b + c;
        a = b;
        b = c;
        c = next;
    }
    println!("{}", total);
}
