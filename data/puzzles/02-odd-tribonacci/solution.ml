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

let () =
  let n = int_of_string (read_tokens ()).(0) in
  (* T1 and T2 are both 1 *)
  let rec go a b c total =
    if c > n then total else go b c (a + b + c) (if c mod 2 = 1 then total + c else total)
  in
  Printf.printf "%d\n" (go 1 1 2 (if n >= 1 then 2 else 0))
