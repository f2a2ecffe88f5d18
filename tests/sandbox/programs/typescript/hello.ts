const greeting: string = "hello, lockstep";
console.log(greeting);
