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

let period m =
  let rec go a b steps =
    let a, b = (b, (a + b) mod m) in
    if a = 0 && b = 1 then steps + 1 else go a b (steps + 1)
  in
  go 0 1 0

let () =
  let t = Array.map int_of_string (read_tokens ()) in
  for i = 1 to t.(0) do
    Printf.printf "%d\n" (period t.(i))
  done
