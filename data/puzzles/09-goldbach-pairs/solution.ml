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
  let queries = Array.sub t 1 t.(0) in
  let limit = Array.fold_left max 0 queries in
  let prime = Array.make (limit + 1) true in
  prime.(0) <- false;
  prime.(1) <- false;
  let p = ref 2 in
  while !p * !p <= limit do
    if prime.(!p) then begin
      let m = ref (!p * !p) in
      while !m <= limit do
        prime.(!m) <- false;
        m := !m + !p
      done
    end;
    incr p
  done;
  Array.iter
    (fun m ->
      let pairs = ref 0 in
      for p = 2 to m / 2 do
        if prime.(p) && prime.(m - p) then incr pairs
      done;
      Printf.printf "%d\n" !pairs)
    queries
