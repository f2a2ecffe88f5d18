use std::io::Read;

fn read_tokens() -> Vec<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    input.split_whitespace().map(String::from).collect()
}

fn main() {
    let t = read_tokens();
    let n: i64 = t[0].parse().unwrap();
    let board: Vec<&[u8]> = t[1..1 + n as usize].iter().map(|row| row.as_bytes()).collect();
    let mut distance = vec![-1i64; (n * n) as usize];
    distance[0] = 0;
    let mut queue = vec![0i64];
    let jumps = [(1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2)];
    let mut head = 0;
    while head < queue.len() {
        let (r, c) = (queue[head] / n, queue[head] % n);
        head += 1;
        for (dr, dc) in jumps {
            let (nr, nc) = (r + dr, c + dc);
            if nr < 0 || nr >= n || nc < 0 || nc >= n || board[nr as usize][nc as usize] != b'.' {
                continue;
            }
            let next = (nr * n + nc) as usize;
            if distance[next] < 0 {
                distance[next] = distance[(r * n + c) as usize] + 1;
                queue.push(next as i64);
            }
        }
    }
    println!("{}", distance[(n * n - 1) as usize]);
}
