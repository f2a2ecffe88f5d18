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
  let limit = 1300000 (* the 100000th prime is 1299709 *) in
  let composite = Bytes.make (limit + 1) '\000' in
  let total = ref 0 and count = ref 0 and p = ref 2 in
  while !p <= limit && !count < n do
    if Bytes.get composite !p = '\000' then begin
      total := !total + !p;
      incr count;
      let m = ref (!p * !p) in
      while !m <= limit do
        Bytes.set composite !m '\001';
        m := !m + !p
      done
    end;
    incr p
  done;
  Printf.printf "%d\n" !total
