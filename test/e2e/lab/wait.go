package lab

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// pollInterval is how often a wait re-checks its condition: lab components come up in tens of milliseconds to
// seconds, so a short interval keeps `up` fast without busy-looping.
const pollInterval = 200 * time.Millisecond

// permanentError ends a wait early: the condition can no longer become true (a daemon died).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanent marks err as one that waiting cannot fix.
func permanent(err error) error { return &permanentError{err: err} }

// poll calls check until it returns nil, a permanent error, or timeout passes. The error names what was awaited
// and carries check's last answer, which says why it was not ready.
func poll(ctx context.Context, timeout time.Duration, what string, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		var p *permanentError
		if errors.As(err, &p) {
			return fmt.Errorf("waiting for %s: %w", what, p.err)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("waiting for %s: gave up after %s: %w", what, timeout, err)
			}
			return fmt.Errorf("waiting for %s: %w (last check: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
