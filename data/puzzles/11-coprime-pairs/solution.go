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
	phi := make([]int64, n+1)
	for i := range phi {
		phi[i] = int64(i)
	}
	for p := 2; p <= n; p++ {
		if phi[p] != int64(p) {
			continue // not prime: a smaller prime already touched it
		}
		for m := p; m <= n; m += p {
			phi[m] -= phi[m] / int64(p)
		}
	}
	var sum int64
	for i := 1; i <= n; i++ {
		sum += phi[i]
	}
	fmt.Println(2*sum - 1)
}
