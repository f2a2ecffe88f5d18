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
	n, x, m := atoi(t[0]), atoi(t[1]), atoi(t[2])
	// tails[k]: smallest last element of a rising subsequence of length k+1
	var tails []int64
	for i := int64(0); i < n; i++ {
		x = x * 48271 % 2147483647
		value := x % m
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if tails[mid] < value {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo == len(tails) {
			tails = append(tails, value)
		} else {
			tails[lo] = value
		}
	}
	fmt.Println(len(tails))
}
