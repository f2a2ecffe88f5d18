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

func isPalindrome(n, base int) bool {
	reversed := 0
	for m := n; m > 0; m /= base {
		reversed = reversed*base + m%base
	}
	return reversed == n
}

func main() {
	t := readTokens()
	n, b := int(atoi(t[0])), int(atoi(t[1]))
	count := 0
	for k := 1; k <= n; k++ {
		if isPalindrome(k, 10) && isPalindrome(k, b) {
			count++
		}
	}
	fmt.Println(count)
}
