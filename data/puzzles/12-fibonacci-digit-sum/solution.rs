use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

const BASE: u64 = 1_000_000_000;

// x + y; numbers are little-endian limbs of base 10^9.
fn add(x: &[u64], y: &[u64]) -> Vec<u64> {
    let mut sum = Vec::with_capacity(x.len().max(y.len()) + 1);
    let mut carry = 0;
    let mut i = 0;
    while i < x.len() || i < y.len() || carry > 0 {
        let limb = carry + x.get(i).copied().unwrap_or(0) + y.get(i).copied().unwrap_or(0);
        carry = limb / BASE;
        sum.push(limb % BASE);
        i += 1;
    }
    sum
}

fn main() {
    let n: usize = read_tokens()[0].parse().unwrap();
    let (mut a, mut b) = (vec![1u64], vec![1u64]);
    for _ in 1..n {
        let next = add(&a, &b);
        a = b;
        b = next;
    }
    let mut digit_sum = 0;
    for mut limb in a {
        while limb > 0 {
            digit_sum += limb % 10;
            limb /= 10;
        }
    }
    println!("{}", digit_sum);
}
