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
  let t = Array.map int_of_string (read_tokens ()) in
  let total = t.(0) and k = t.(1) in
  let ways = Array.make (total + 1) 0 in
  ways.(0) <- 1;
  for i = 0 to k - 1 do
    let coin = t.(2 + i) in
    for amount = coin to total do
      ways.(amount) <- (ways.(amount) + ways.(amount - coin)) mod modulus
    done
  done;
  Printf.printf "%d\n" ways.(total)
