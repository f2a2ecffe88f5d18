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
  let a = t.(0) and b = t.(1) in
  let lb = String.length b in
  let previous = ref (Array.init (lb + 1) (fun j -> j)) in
  let current = ref (Array.make (lb + 1) 0) in
  for i = 1 to String.length a do
    let prev = !previous and cur = !current in
    cur.(0) <- i;
    for j = 1 to lb do
      let cost = if a.[i - 1] = b.[j - 1] then 0 else 1 in
      cur.(j) <- min (min (prev.(j) + 1) (cur.(j - 1) + 1)) (prev.(j - 1) + cost)
    done;
    previous := cur;
    current := prev
  done;
  Printf.printf "%d\n" !previous.(lb)
