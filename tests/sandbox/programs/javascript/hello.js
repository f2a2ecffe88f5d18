console.log("hello, lockstep");
