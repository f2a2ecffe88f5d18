package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func readTokens() []string {
	data, _ := io.ReadAll(bufio.NewReader(os.Stdin))
	return strings.Fields(string(data))
}

func atoi(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return v
}

func main() {
	n := int(atoi(readTokens()[0]))
	const limit = 1300000 // the 100000th prime is 1299709
	composite := make([]bool, limit+1)
	var total int64
	count := 0
	for p := 2; p <= limit && count < n; p++ {
		if composite[p] {
			continue
		}
		total += int64(p)
		count++
		for m := p * p; m <= limit; m += p {
			composite[m] = true
		}
	}
	fmt.Println(total)
}
