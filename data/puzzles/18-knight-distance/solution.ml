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
  let n = int_of_string t.(0) in
  let distance = Array.make (n * n) (-1) in
  let queue = Array.make (n * n) 0 in
  let head = ref 0 and tail = ref 1 in
  distance.(0) <- 0;
  let jumps = [ (1, 2); (2, 1); (2, -1); (1, -2); (-1, -2); (-2, -1); (-2, 1); (-1, 2) ] in
  while !head < !tail do
    let cell = queue.(!head) in
    incr head;
    let r = cell / n and c = cell mod n in
    List.iter
      (fun (dr, dc) ->
        let nr = r + dr and nc = c + dc in
        if nr >= 0 && nr < n && nc >= 0 && nc < n && t.(1 + nr).[nc] = '.'
           && distance.((nr * n) + nc) < 0
        then begin
          distance.((nr * n) + nc) <- distance.(cell) + 1;
          queue.(!tail) <- (nr * n) + nc;
          incr tail
        end)
      jumps
  done;
  Printf.printf "%d\n" distance.((n * n) - 1)
