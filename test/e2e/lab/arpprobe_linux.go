package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/mdlayher/arp"
	"golang.org/x/sys/unix"
)

// ARPReply is one answer the prober saw.
type ARPReply struct {
	At  time.Time
	MAC string
}

// ARPProbe asks, from the client's eth0, who has an address, every interval, and records every answer. It
// measures what a user's machine sees during a failover: requests that go unanswered and the time the
// answering MAC changes.
type ARPProbe struct {
	ip       netip.Addr
	interval time.Duration
	conn     *arp.Client

	mu      sync.Mutex
	sent    int
	replies []ARPReply
	done    chan struct{}
}

// ProbeARP starts an ARPProbe for ip from the client; Stop ends it.
func (l *Lab) ProbeARP(ip netip.Addr, interval time.Duration) (*ARPProbe, error) {
	conn, err := inNamespace(Client().NetnsPath(), func() (*arp.Client, error) {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return nil, err
		}
		return arp.Dial(ifi)
	})
	if err != nil {
		return nil, fmt.Errorf("opening an ARP socket on the client: %w", err)
	}
	p := &ARPProbe{ip: ip, interval: interval, conn: conn, done: make(chan struct{})}
	go p.send()
	go p.receive()
	return p, nil
}

func (p *ARPProbe) send() {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		if err := p.conn.Request(p.ip); err == nil {
			p.mu.Lock()
			p.sent++
			p.mu.Unlock()
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

func (p *ARPProbe) receive() {
	for {
		pkt, _, err := p.conn.Read()
		if err != nil {
			select {
			case <-p.done:
				return
			default:
				continue
			}
		}
		if pkt.Operation != arp.OperationReply || pkt.SenderIP != p.ip {
			continue
		}
		p.mu.Lock()
		p.replies = append(p.replies, ARPReply{At: time.Now(), MAC: pkt.SenderHardwareAddr.String()})
		p.mu.Unlock()
	}
}

// Stop ends the probe.
func (p *ARPProbe) Stop() {
	close(p.done)
	_ = p.conn.Close()
}

// Sent is the number of requests sent so far.
func (p *ARPProbe) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// Replies returns the answers seen so far, in order.
func (p *ARPProbe) Replies() []ARPReply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ARPReply(nil), p.replies...)
}

// FirstFrom returns the time of the first answer after since from a MAC, and whether there was one.
func (p *ARPProbe) FirstFrom(mac string, since time.Time) (time.Time, bool) {
	for _, r := range p.Replies() {
		if r.MAC == mac && !r.At.Before(since) {
			return r.At, true
		}
	}
	return time.Time{}, false
}

// Gaps returns the intervals between consecutive answers that are longer than max, over the answers after
// since: the times a client asking at the probe's pace would have had no answer.
func (p *ARPProbe) Gaps(since time.Time, max time.Duration) []time.Duration {
	var gaps []time.Duration
	last := since
	for _, r := range p.Replies() {
		if r.At.Before(since) {
			continue
		}
		if d := r.At.Sub(last); d > max {
			gaps = append(gaps, d)
		}
		last = r.At
	}
	return gaps
}

// inNamespace runs open on an OS thread switched into the network namespace at path, so that the socket it
// returns belongs to that namespace; the socket keeps working from any thread afterwards. The thread is
// discarded, never switched back: a failed switch back would leave a goroutine of the test in the lab.
func inNamespace[T any](path string, open func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		var zero T
		f, err := os.Open(path)
		if err != nil {
			ch <- result{zero, err}
			return
		}
		defer f.Close()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			ch <- result{zero, fmt.Errorf("unshare: %w", err)}
			return
		}
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{zero, fmt.Errorf("setns %s: %w", path, err)}
			return
		}
		v, err := open()
		ch <- result{v, err}
	}()
	r := <-ch
	return r.v, r.err
}
