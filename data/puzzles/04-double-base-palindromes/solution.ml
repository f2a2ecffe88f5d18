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

let is_palindrome n base =
  let rec reverse m acc = if m = 0 then acc else reverse (m / base) ((acc * base) + (m mod base)) in
  reverse n 0 = n

let () =
  let t = Array.map int_of_string (read_tokens ()) in
  let count = ref 0 in
  for k = 1 to t.(0) do
    if is_palindrome k 10 && is_palindrome k t.(1) then incr count
  done;
  Printf.printf "%d\n" !count
