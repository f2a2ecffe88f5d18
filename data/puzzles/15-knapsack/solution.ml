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
  let capacity = t.(0) and n = t.(1) in
  let best = Array.make (capacity + 1) 0 in
  for i = 0 to n - 1 do
    let weight = t.(2 + (2 * i)) and value = t.(3 + (2 * i)) in
    for w = capacity downto weight do
      best.(w) <- max best.(w) (best.(w - weight) + value)
    done
  done;
  Printf.printf "%d\n" best.(capacity)
