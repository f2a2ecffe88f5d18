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

func period(m int64) int64 {
	a, b, steps := int64(0), int64(1), int64(0)
	for {
		a, b = b, (a+b)%m
		steps++
		if a == 0 && b == 1 {
			return steps
		}
	}
}

func main() {
	t := readTokens()
	q := int(atoi(t[0]))
	for i := 0; i < q; i++ {
		fmt.Println(period(atoi(t[1+i])))
	}
}
