let () =
  let rec loop acc =
    match Scanf.scanf " %d" (fun x -> x) with
    | x -> loop (acc + x)
    | exception (End_of_file | Scanf.Scan_failure _) -> acc
  in
  Printf.printf "%d\n" (loop 0)
