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
	total, k := int(atoi(t[0])), int(atoi(t[1]))
	ways := make([]int64, total+1)
	ways[0] = 1
	for i := 0; i < k; i++ {
		coin := int(atoi(t[2+i]))
		for amount := coin; amount <= total; amount++ {
			ways[amount] = (ways[amount] + ways[amount-coin]) % mod
		}
	}
	fmt.Println(ways[total])
}
