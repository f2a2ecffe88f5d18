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
	t := readTokens()
	n, k := int(atoi(t[0])), int(atoi(t[1]))
	divisors := make([]int, n+1)
	for d := 1; d <= n; d++ {
		for m := d; m <= n; m += d {
			divisors[m]++
		}
	}
	count := 0
	for m := 1; m <= n; m++ {
		if divisors[m] == k {
			count++
		}
	}
	fmt.Println(count)
}
