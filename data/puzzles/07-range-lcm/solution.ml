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

let () =
  let t = Array.map int_of_string (read_tokens ()) in
  let result = ref 1 in
  for k = t.(0) to t.(1) do
    result := !result / gcd !result k * k
  done;
  Printf.printf "%d\n" !result
