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

// Euler's pentagonal number theorem:
// p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
func main() {
	const mod = 1000000007
	n := atoi(readTokens()[0])
	p := make([]int64, n+1)
	p[0] = 1
	for m := int64(1); m <= n; m++ {
		var total int64
		for k := int64(1); ; k++ {
			first := m - k*(3*k-1)/2
			if first < 0 {
				break
			}
			term := p[first]
			if second := m - k*(3*k+1)/2; second >= 0 {
				term += p[second]
			}
			if k%2 == 1 {
				total = (total + term) % mod
			} else {
				total = (total - term%mod + mod) % mod
			}
		}
		p[m] = total
	}
	fmt.Println(p[n])
}
