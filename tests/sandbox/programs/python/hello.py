print("hello, lockstep")
