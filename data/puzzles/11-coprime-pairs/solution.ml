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
  let phi = Array.init (n + 1) (fun i -> i) in
  for p = 2 to n do
    (* phi.(p) = p: p is prime, no smaller prime touched it *)
    if phi.(p) = p then begin
      let m = ref p in
      while !m <= n do
        phi.(!m) <- phi.(!m) - (phi.(!m) / p);
        m := !m + p
      done
    end
  done;
  let sum = ref 0 in
  for i = 1 to n do
    sum := !sum + phi.(i)
  done;
  Printf.printf "%d\n" ((2 * !sum) - 1)
