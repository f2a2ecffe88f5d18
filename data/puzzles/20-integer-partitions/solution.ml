let read_tokens () =
  let buf = Buffer.create 65536 and chunk = Bytes.create 65536 in
  let rec loop () =
    let n = input stdin chunk 0 (Bytes.length chunk) in
    if n > 0 then (Buffer.add_subbytes buf chunk 0 n; loop ())
  in
  loop ();
  Buffer.contents buf
  |> String.map (fun c -> if c = '\n' || c = '\t' || c = '\r' then ' ' else c)
  |> String.split_on_char ' '
  |> List.filter (fun s -> s <> "")
  |> Array.of_list

let modulus = 1_000_000_007

(* Euler's pentagonal number theorem:
   p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)). *)
let () =
  let n = int_of_string (read_tokens ()).(0) in
  let p = Array.make (n + 1) 0 in
  p.(0) <- 1;
  for m = 1 to n do
    let rec go k total =
      let first = m - (k * ((3 * k) - 1) / 2) in
      if first < 0 then total
      else begin
        let second = m - (k * ((3 * k) + 1) / 2) in
        let term = p.(first) + if second >= 0 then p.(second) else 0 in
        let total =
          if k mod 2 = 1 then (total + term) mod modulus
          else (total - (term mod modulus) + modulus) mod modulus
        in
        go (k + 1) total
      end
    in
    p.(m) <- go 1 0
  done;
  Printf.printf "%d\n" p.(n)
