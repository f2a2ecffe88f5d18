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
	q := int(atoi(t[0]))
	queries := make([]int, q)
	limit := 0
	for i := range queries {
		queries[i] = int(atoi(t[1+i]))
		if queries[i] > limit {
			limit = queries[i]
		}
	}
	composite := make([]bool, limit+1)
	composite[0], composite[1] = true, true
	for p := 2; p*p <= limit; p++ {
		if !composite[p] {
			for m := p * p; m <= limit; m += p {
				composite[m] = true
			}
		}
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, m := range queries {
		pairs := 0
		for p := 2; p <= m/2; p++ {
			if !composite[p] && !composite[m-p] {
				pairs++
			}
		}
		fmt.Fprintln(out, pairs)
	}
}
