// Closed-loop keep-alive load with Go's net/http client, one idle connection kept per worker.
// Usage: go run go_nethttp.go PORT WORKERS. Prints one line per attempt: ok, refused (nothing
// was sent), or fail <why>. Runs until killed.
package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
)

func main() {
	workers, _ := strconv.Atoi(os.Args[2])
	url := "http://127.0.0.1:" + os.Args[1] + "/hello"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var mu sync.Mutex
	out := func(line string) {
		mu.Lock()
		fmt.Println(line)
		mu.Unlock()
	}
	for i := 0; i < workers; i++ {
		go func() {
			for {
				resp, err := client.Get(url)
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						out("refused")
					} else {
						out("fail " + err.Error())
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					out("ok")
				} else {
					out("fail status " + strconv.Itoa(resp.StatusCode))
				}
			}
		}()
	}
	select {}
}
