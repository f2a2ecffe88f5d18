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
	n := int(atoi(t[0]))
	board := t[1 : 1+n]
	distance := make([]int, n*n)
	for i := range distance {
		distance[i] = -1
	}
	distance[0] = 0
	queue := []int{0}
	dr := []int{1, 2, 2, 1, -1, -2, -2, -1}
	dc := []int{2, 1, -1, -2, -2, -1, 1, 2}
	for head := 0; head < len(queue); head++ {
		r, c := queue[head]/n, queue[head]%n
		for j := 0; j < 8; j++ {
			nr, nc := r+dr[j], c+dc[j]
			if nr < 0 || nr >= n || nc < 0 || nc >= n || board[nr][nc] != '.' || distance[nr*n+nc] >= 0 {
				continue
			}
			distance[nr*n+nc] = distance[r*n+c] + 1
			queue = append(queue, nr*n+nc)
		}
	}
	fmt.Println(distance[n*n-1])
}
