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

let base = 1_000_000_000

(* x + y; numbers are little-endian lists of base 10^9 limbs. *)
let add x y =
  let rec go x y carry =
    match (x, y) with
    | [], [] -> if carry > 0 then [ carry ] else []
    | d :: rest, [] | [], d :: rest ->
        let limb = d + carry in
        (limb mod base) :: go rest [] (limb / base)
    | d :: xs, e :: ys ->
        let limb = d + e + carry in
        (limb mod base) :: go xs ys (limb / base)
  in
  go x y 0

let () =
  let n = int_of_string (read_tokens ()).(0) in
  let a = ref [ 1 ] and b = ref [ 1 ] in
  for _ = 2 to n do
    let next = add !a !b in
    a := !b;
    b := next
  done;
  let rec digits limb = if limb = 0 then 0 else (limb mod 10) + digits (limb / 10) in
  Printf.printf "%d\n" (List.fold_left (fun acc limb -> acc + digits limb) 0 !a)
