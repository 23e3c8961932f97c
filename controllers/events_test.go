package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
)

func TestPacedRecorderKeepsOrderAndNeverBlocks(t *testing.T) {
	next := events.NewFakeRecorder(100)
	r := newPacedRecorder(next, 1000, 100)
	svc := &corev1.Service{}
	// Queued before the writer runs: Eventf must not wait for it.
	for i := range 10 {
		r.Eventf(svc, nil, corev1.EventTypeNormal, "IPAllocated", "Allocate", "Assigned IP %d", i)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Start(ctx) }()
	var got, want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("Normal IPAllocated Assigned IP %d", i))
		select {
		case e := <-next.Events:
			got = append(got, e)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of 10 Events written", i)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start: %v", err)
	}
}

func TestPacedRecorderPacesAfterTheBurst(t *testing.T) {
	next := events.NewFakeRecorder(100)
	r := newPacedRecorder(next, 20, 5) // 5 at once, then one every 50 ms
	go func() { _ = r.Start(t.Context()) }()
	for range 10 {
		r.Eventf(&corev1.Service{}, nil, corev1.EventTypeNormal, "IPAllocated", "Allocate", "x")
	}
	start := time.Now()
	for range 10 {
		<-next.Events
	}
	// The 5 after the burst take at least 4 intervals of 50 ms (the token bucket is exact, not a timing guess).
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("10 Events at 20/s after a burst of 5 took %v, want at least 200ms", elapsed)
	}
}

func TestPacedRecorderDropsBeyondItsBound(t *testing.T) {
	r := newPacedRecorder(events.NewFakeRecorder(1), 1, 1)
	for range maxPendingEvents + 3 {
		r.Eventf(&corev1.Service{}, nil, corev1.EventTypeNormal, "IPAllocated", "Allocate", "x")
	}
	if len(r.pending) != maxPendingEvents {
		t.Errorf("pending = %d, want the bound %d", len(r.pending), maxPendingEvents)
	}
}
