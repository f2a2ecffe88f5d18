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
	n, k := atoi(t[0]), atoi(t[1])
	var survivor int64 // zero-based survivor among the first i people
	for i := int64(2); i <= n; i++ {
		survivor = (survivor + k) % i
	}
	fmt.Println(survivor + 1)
}
