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

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// total is the sum of the multiples of d in [1, n].
func total(n, d int64) int64 {
	m := n / d
	return d * m * (m + 1) / 2
}

func main() {
	t := readTokens()
	n, a, b := atoi(t[0]), atoi(t[1]), atoi(t[2])
	both := a / gcd(a, b) * b
	fmt.Println(total(n, a) + total(n, b) - total(n, both))
}
