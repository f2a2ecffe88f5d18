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
  let t = Array.map int_of_string (read_tokens ()) in
  let n = t.(0) and k = t.(1) in
  let divisors = Array.make (n + 1) 0 in
  for d = 1 to n do
    let m = ref d in
    while !m <= n do
      divisors.(!m) <- divisors.(!m) + 1;
      m := !m + d
    done
  done;
  let count = ref 0 in
  for m = 1 to n do
    if divisors.(m) = k then incr count
  done;
  Printf.printf "%d\n" !count
