package allocator

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the Allocator returns wraps exactly one of them, and its text is MetalLB's
// message for the same situation where MetalLB has one.
var (
	// ErrPoolExhausted: no candidate pool has a free or shareable address of the requested families.
	ErrPoolExhausted = errors.New("no available IPs")
	// ErrUnknownPool: a pool name that SetPools did not define.
	ErrUnknownPool = errors.New("unknown pool")
	// ErrNotInPool: a requested address is in no pool, or is excluded by avoidBuggyIPs, or the requested
	// addresses are not all in the same pool.
	ErrNotInPool = errors.New("address not in any pool")
	// ErrPoolNotCompatible: the caller's filter rejected the pool holding the requested addresses.
	ErrPoolNotCompatible = errors.New("pool not compatible with the service")
	// ErrSharingConflict: the address is in use and the sharing rules forbid another user.
	ErrSharingConflict = errors.New("address sharing conflict")
	// ErrInvalidRequest: a malformed request (bad family, more than two addresses, empty service key, ...).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrNotAllocated: the service holds no addresses.
	ErrNotAllocated = errors.New("service has no addresses")
	// ErrInvalidPools: SetPools got pools that are malformed or overlap.
	ErrInvalidPools = errors.New("invalid pools")
	// ErrInvalidRange: RangeToPrefixes got a malformed range.
	ErrInvalidRange = errors.New("invalid address range")
)

// allocError carries MetalLB's user-facing text while unwrapping to the sentinel callers branch on.
type allocError struct {
	sentinel error
	msg      string
}

func (e *allocError) Error() string { return e.msg }

func (e *allocError) Unwrap() error { return e.sentinel }

func errorf(sentinel error, format string, args ...any) error {
	return &allocError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}
