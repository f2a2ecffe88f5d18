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
  let n = t.(0) and m = t.(2) in
  let x = ref t.(1) in
  (* tails.(k): smallest last element of a rising subsequence of length k+1 *)
  let tails = Array.make n 0 and length = ref 0 in
  for _ = 1 to n do
    x := !x * 48271 mod 2147483647;
    let value = !x mod m in
    let lo = ref 0 and hi = ref !length in
    while !lo < !hi do
      let mid = (!lo + !hi) / 2 in
      if tails.(mid) < value then lo := mid + 1 else hi := mid
    done;
    tails.(!lo) <- value;
    if !lo = !length then incr length
  done;
  Printf.printf "%d\n" !length
