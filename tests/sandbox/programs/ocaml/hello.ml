let () = print_endline "hello, lockstep"
