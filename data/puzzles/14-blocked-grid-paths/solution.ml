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

let () =
  let t = read_tokens () in
  let rows = int_of_string t.(0) and cols = int_of_string t.(1) in
  let ways = Array.make cols 0 in
  for r = 0 to rows - 1 do
    let line = t.(2 + r) in
    for c = 0 to cols - 1 do
      if line.[c] = '#' then ways.(c) <- 0
      else if r = 0 && c = 0 then ways.(c) <- 1
      else if c > 0 then ways.(c) <- (ways.(c) + ways.(c - 1)) mod modulus
    done
  done;
  Printf.printf "%d\n" ways.(cols - 1)
