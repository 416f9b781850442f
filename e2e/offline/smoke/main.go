// smoke is the one binary in the offline e2e cluster's smoke-test image
// (e2e/offline/smoke.sh; registry-less sandbox only, see ../README.md):
//
//	smoke serve ADDR        HTTP server answering "hello from <hostname>"
//	smoke get URL...        GET each URL (retrying for up to 60s), print the body
//	smoke lookup NAME...    resolve each NAME with the pod's resolver (cluster DNS)
//	smoke write FILE TEXT   write TEXT to FILE and read it back
//
// Standard library only, built with CGO_ENABLED=0.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: smoke serve ADDR | get URL... | lookup NAME... | write FILE TEXT")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2])
	case "get":
		for _, u := range os.Args[2:] {
			get(u)
		}
	case "lookup":
		for _, n := range os.Args[2:] {
			lookup(n)
		}
	case "write":
		if err := os.WriteFile(os.Args[2], []byte(os.Args[3]), 0o644); err != nil {
			fail("write %s: %v", os.Args[2], err)
		}
		b, err := os.ReadFile(os.Args[2])
		if err != nil || string(b) != os.Args[3] {
			fail("read back %s: %q %v", os.Args[2], b, err)
		}
		fmt.Printf("wrote and read back %s\n", os.Args[2])
	default:
		fail("unknown command %q", os.Args[1])
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "smoke: "+format+"\n", a...)
	os.Exit(1)
}

func serve(addr string) {
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	fmt.Printf("serving on %s\n", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fail("serve: %v", err)
	}
}

func get(url string) {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				fmt.Printf("GET %s -> %d %s", url, resp.StatusCode, body)
				return
			}
			err = fmt.Errorf("status %d, read error %v", resp.StatusCode, rerr)
		}
		if time.Now().After(deadline) {
			fail("GET %s: %v", url, err)
		}
		time.Sleep(time.Second)
	}
}

func lookup(name string) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, name)
		cancel()
		if err == nil {
			fmt.Printf("lookup %s -> %v\n", name, addrs)
			return
		}
		if time.Now().After(deadline) {
			fail("lookup %s: %v", name, err)
		}
		time.Sleep(time.Second)
	}
}
