// Command echo is the lab's HTTP workload: it answers every request with the pod and node it runs on (from the
// POD_NAME and NODE_NAME environment variables, set through the downward API) and the client's address, so a
// test sees which backend served it and whether the source address was kept.
//
//	pod=echo-7d9f-abcde node=node2 client=10.99.0.100:41234
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = ":8080"
	}
	pod, node := os.Getenv("POD_NAME"), os.Getenv("NODE_NAME")
	srv := &http.Server{
		Addr: addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "pod=%s node=%s client=%s\n", pod, node, r.RemoteAddr)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	// As a container's PID 1 the process gets no default signal handling: stop on SIGTERM explicitly, or pod
	// deletion waits for the whole grace period.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("Listening on %s", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
