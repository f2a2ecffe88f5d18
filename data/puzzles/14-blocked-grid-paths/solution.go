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
	const mod = 1000000007
	t := readTokens()
	rows, cols := int(atoi(t[0])), int(atoi(t[1]))
	ways := make([]int64, cols)
	for r := 0; r < rows; r++ {
		line := t[2+r]
		for c := 0; c < cols; c++ {
			switch {
			case line[c] == '#':
				ways[c] = 0
			case r == 0 && c == 0:
				ways[c] = 1
			case c > 0:
				ways[c] = (ways[c] + ways[c-1]) % mod
			}
		}
	}
	fmt.Println(ways[cols-1])
}
