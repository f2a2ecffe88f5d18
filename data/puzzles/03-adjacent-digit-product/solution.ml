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
  let t = read_tokens () in
  let k = int_of_string t.(0) in
  let digits = String.concat "" (Array.to_list (Array.sub t 1 (Array.length t - 1))) in
  let best = ref 0 in
  for start = 0 to String.length digits - k do
    let product = ref 1 in
    for i = 0 to k - 1 do
      product := !product * (Char.code digits.[start + i] - Char.code '0')
    done;
    if !product > !best then best := !product
  done;
  Printf.printf "%d\n" !best
