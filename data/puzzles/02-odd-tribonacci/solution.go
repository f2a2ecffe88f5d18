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
	n := atoi(readTokens()[0])
	var total int64
	if n >= 1 {
		total = 2 // T1 and T2
	}
	a, b, c := int64(1), int64(1), int64(2)
	for c <= n {
		if c%2 == 1 {
			total += c
		}
		a, b, c = b, c, a+b+c
	}
	fmt.Println(total)
}
