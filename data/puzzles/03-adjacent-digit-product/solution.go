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
	k := int(atoi(t[0]))
	digits := strings.Join(t[1:], "")
	var best int64
	for start := 0; start+k <= len(digits); start++ {
		product := int64(1)
		for i := 0; i < k; i++ {
			product *= int64(digits[start+i] - '0')
		}
		if product > best {
			best = product
		}
	}
	fmt.Println(best)
}
