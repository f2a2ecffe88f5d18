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
	capacity, n := int(atoi(t[0])), int(atoi(t[1]))
	best := make([]int64, capacity+1)
	for i := 0; i < n; i++ {
		weight, value := int(atoi(t[2+2*i])), atoi(t[3+2*i])
		for w := capacity; w >= weight; w-- {
			if candidate := best[w-weight] + value; candidate > best[w] {
				best[w] = candidate
			}
		}
	}
	fmt.Println(best[capacity])
}
