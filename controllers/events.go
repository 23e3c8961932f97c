package controllers

import (
	"context"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Default pace of the controller's Events: a steady trickle of allocations records its Events at once, and a
// burst (a new pool under thousands of pending Services) writes its Services first and its Events after.
const (
	DefaultEventQPS   = 50
	DefaultEventBurst = 200
	// maxPendingEvents bounds the memory a burst can hold; beyond it Events are dropped and counted, as the
	// client-go broadcaster drops them when its own queue is full.
	maxPendingEvents = 50000
)

var (
	eventsPending = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "ferrolb", Subsystem: "controller", Name: "events_pending",
		Help: "Number of Events waiting for their turn to be written.",
	})
	eventsDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "ferrolb", Subsystem: "controller", Name: "events_dropped_total",
		Help: "Number of Events dropped because too many were waiting.",
	})
)

func init() {
	metrics.Registry.MustRegister(eventsPending, eventsDropped)
}

// pacedRecorder records Events in order through a token bucket, so that Events never compete with the
// Service status writes they report on: each costs the API server about as much as a status write, and a
// burst of allocations would otherwise run at half speed. The Service condition carries the same
// information as the Event, at once.
type pacedRecorder struct {
	next    events.EventRecorder
	limiter flowcontrol.RateLimiter

	mu      sync.Mutex
	pending []pendingEvent
	wake    chan struct{}
}

type pendingEvent struct {
	regarding, related              runtime.Object
	eventType, reason, action, note string
}

var _ events.EventRecorder = (*pacedRecorder)(nil)

// newPacedRecorder returns a recorder that writes to next at most qps Events per second after a burst of
// burst; it records nothing until Start runs.
func newPacedRecorder(next events.EventRecorder, qps float32, burst int) *pacedRecorder {
	return &pacedRecorder{next: next, limiter: flowcontrol.NewTokenBucketRateLimiter(qps, burst), wake: make(chan struct{}, 1)}
}

// Eventf queues an Event; it never blocks.
func (r *pacedRecorder) Eventf(regarding, related runtime.Object, eventType, reason, action, note string, args ...any) {
	e := pendingEvent{regarding: regarding, related: related, eventType: eventType, reason: reason, action: action,
		note: fmt.Sprintf(note, args...)}
	r.mu.Lock()
	if len(r.pending) >= maxPendingEvents {
		r.mu.Unlock()
		eventsDropped.Inc()
		return
	}
	r.pending = append(r.pending, e)
	eventsPending.Set(float64(len(r.pending)))
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start writes the queued Events until ctx ends (a manager.Runnable).
func (r *pacedRecorder) Start(ctx context.Context) error {
	for {
		e, ok := r.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-r.wake:
				continue
			}
		}
		if err := r.limiter.Wait(ctx); err != nil {
			return nil // ctx ended
		}
		r.next.Eventf(e.regarding, e.related, e.eventType, e.reason, e.action, "%s", e.note)
	}
}

func (r *pacedRecorder) pop() (pendingEvent, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return pendingEvent{}, false
	}
	e := r.pending[0]
	r.pending[0] = pendingEvent{}
	r.pending = r.pending[1:]
	if len(r.pending) == 0 {
		r.pending = nil // let a burst's backing array go
	}
	eventsPending.Set(float64(len(r.pending)))
	return e, true
}
