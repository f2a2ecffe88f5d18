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
  let hit = Array.make (n + 1) false in
  let a = ref 0 in
  while !a * !a <= n do
    let b = ref !a in
    while (!a * !a) + (!b * !b) <= n do
      hit.((!a * !a) + (!b * !b)) <- true;
      incr b
    done;
    incr a
  done;
  let count = ref 0 in
  for k = 1 to n do
    if hit.(k) then incr count
  done;
  Printf.printf "%d\n" !count
