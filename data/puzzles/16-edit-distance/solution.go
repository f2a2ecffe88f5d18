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
	a, b := t[0], t[1]
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			best := previous[j] + 1
			if current[j-1]+1 < best {
				best = current[j-1] + 1
			}
			if previous[j-1]+cost < best {
				best = previous[j-1] + cost
			}
			current[j] = best
		}
		previous, current = current, previous
	}
	fmt.Println(previous[len(b)])
}
