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

let rec gcd a b = if b = 0 then a else gcd b (a mod b)

(* Sum of the multiples of d in [1, n]. *)
let total n d =
  let m = n / d in
  d * m * (m + 1) / 2

let () =
  let t = Array.map int_of_string (read_tokens ()) in
  let n = t.(0) and a = t.(1) and b = t.(2) in
  let both = a / gcd a b * b in
  Printf.printf "%d\n" (total n a + total n b - total n both)
