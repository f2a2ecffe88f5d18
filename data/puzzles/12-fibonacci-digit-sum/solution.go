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

const base = 1000000000

// add returns x + y; numbers are little-endian limbs of base 10^9.
func add(x, y []int64) []int64 {
	var sum []int64
	var carry int64
	for i := 0; i < len(x) || i < len(y) || carry > 0; i++ {
		limb := carry
		if i < len(x) {
			limb += x[i]
		}
		if i < len(y) {
			limb += y[i]
		}
		carry = limb / base
		sum = append(sum, limb%base)
	}
	return sum
}

func main() {
	n := int(atoi(readTokens()[0]))
	a, b := []int64{1}, []int64{1}
	for i := 1; i < n; i++ {
		a, b = b, add(a, b)
	}
	var digitSum int64
	for _, limb := range a {
		for ; limb > 0; limb /= 10 {
			digitSum += limb % 10
		}
	}
	fmt.Println(digitSum)
}
