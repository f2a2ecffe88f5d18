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
	hit := make([]bool, n+1)
	for a := int64(0); a*a <= n; a++ {
		for b := a; a*a+b*b <= n; b++ {
			hit[a*a+b*b] = true
		}
	}
	count := 0
	for k := int64(1); k <= n; k++ {
		if hit[k] {
			count++
		}
	}
	fmt.Println(count)
}
