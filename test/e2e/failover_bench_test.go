//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// EnvFailoverRounds runs the failover benchmark with that many unplanned failures of each kind.
const EnvFailoverRounds = "FERROLB_BENCH_FAILOVER"

// The failover benchmark (make bench-failover, docs/benchmarks.md) is not part of make test: it takes
// minutes. It measures, from the client, what a user sees when the node announcing a layer 2 address fails:
// the time from the failure to the first ARP answer with another node's MAC, asking every 10 ms.
var _ = Describe("Layer 2 failover", Label("benchmark"), Ordered, func() {
	var (
		c     client.Client
		ns    string
		ip    netip.Addr
		owner lab.Host
		svc   *corev1.Service
	)
	var rounds int
	BeforeAll(func(ctx SpecContext) {
		var err error
		if rounds, err = strconv.Atoi(os.Getenv(EnvFailoverRounds)); err != nil || rounds <= 0 {
			Skip("set " + EnvFailoverRounds + " to run the failover benchmark (make bench-failover)")
		}
		c = controllerRuntimeClient()
		installCRDs()
		ns = f.Namespace(ctx, "failover")
		deployController(ctx, c, ns, false)
		deploySpeaker(ctx, c, ns)
		first := lab.L2VIPRange4[1].Prev() // the specs of the speaker suite use the start of the range
		for _, o := range []client.Object{
			&metallbv1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "failover"},
				Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []string{first.String() + "/32"}}},
			&metallbv1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "failover"}},
		} {
			Expect(c.Create(ctx, o)).To(Succeed())
		}
		apps := f.Namespace(ctx, "failover-apps")
		_, err = f.Client.AppsV1().Deployments(apps).Create(ctx, echoDeployment(int32(f.Lab.Nodes)), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		svc = createLoadBalancer(ctx, c, apps, "web", ptr.To(corev1.IPFamilyPolicySingleStack))
		ip = awaitIngress(ctx, c, svc, 1)[0]
		owner = awaitOwner(ctx, c, ns, svc)
	}, NodeTimeout(specTimeout))

	It("moves the address within about a second of an unplanned failure", func(ctx SpecContext) {
		kinds := []struct {
			name          string
			fail, recover func(context.Context, lab.Host)
		}{
			{"owner unplugged (its switch port down)", func(ctx context.Context, h lab.Host) { plug(ctx, h, false) },
				func(ctx context.Context, h lab.Host) { plug(ctx, h, true) }},
			{"speaker frozen (SIGSTOP)", func(ctx context.Context, h lab.Host) { signalSpeaker(ctx, h, "STOP") },
				func(ctx context.Context, h lab.Host) { signalSpeaker(ctx, h, "CONT") }},
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(w, "\nLayer 2 failover, %d nodes, ARP asked every 10 ms from the client\t\n", f.Lab.Nodes)
		fmt.Fprintf(w, "failure\trounds\tp50\tp99\tmax\tmin\t\n")
		for _, k := range kinds {
			var took []time.Duration
			for range rounds {
				took = append(took, failOnce(ctx, c, ns, svc, ip, owner, k.fail, k.recover))
			}
			slices.Sort(took)
			fmt.Fprintf(w, "%s\t%d\t%v\t%v\t%v\t%v\t\n", k.name, len(took), pct(took, 50), pct(took, 99), took[len(took)-1], took[0])
		}
		Expect(w.Flush()).To(Succeed())
	}, SpecTimeout(30*time.Minute))

	It("loses no answer when the speakers are rolled", func(ctx SpecContext) {
		probe, err := f.Lab.ProbeARP(ip, 10*time.Millisecond)
		Expect(err).NotTo(HaveOccurred())
		defer probe.Stop()
		start := time.Now()
		restartSpeakers(ctx, c, ns)
		time.Sleep(3 * time.Second)
		gaps := probe.Gaps(start, 100*time.Millisecond)
		fmt.Printf("\nSpeaker rollout: %d ARP requests every 10 ms, %d answers, %d gaps over 100 ms %v\n",
			probe.Sent(), len(probe.Replies()), len(gaps), gaps)
		Expect(gaps).To(BeEmpty())
	}, SpecTimeout(10*time.Minute))
})

// failOnce fails the owner, returns the time until the client gets an answer from another node, then
// recovers the owner and waits until it answers again (it is the elected node).
func failOnce(ctx context.Context, c client.Client, ns string, svc *corev1.Service, ip netip.Addr, owner lab.Host,
	fail, recover func(context.Context, lab.Host)) time.Duration {
	GinkgoHelper()
	Eventually(ctx, func() (string, error) { mac, err := f.Lab.Arping(ctx, ip); return mac.String(), err }).Should(Equal(owner.MAC.String()))
	probe, err := f.Lab.ProbeARP(ip, 10*time.Millisecond)
	Expect(err).NotTo(HaveOccurred())
	defer probe.Stop()
	time.Sleep(200 * time.Millisecond)
	failed := time.Now()
	fail(ctx, owner)
	recovered := false
	defer func() {
		if !recovered {
			recover(context.Background(), owner)
		}
	}()
	var moved ARPReplyMatcher
	Eventually(ctx, func() bool { moved = firstReplyNotFrom(probe, owner, failed); return moved.ok }).
		WithTimeout(20*time.Second).WithPolling(10*time.Millisecond).Should(BeTrue(), "another node answers")
	recover(ctx, owner)
	recovered = true
	back := time.Now()
	// Settled: the owner took the address back and, for a whole second, nobody else answered (after a
	// partition both halves answer until memberlist merges them again).
	Eventually(ctx, func(g Gomega) {
		g.Expect(l2Statuses(ctx, c, ns, svc)).To(ConsistOf(HaveField("Status.Node", owner.Name)))
		since := time.Now().Add(-time.Second)
		g.Expect(since).To(BeTemporally(">", back))
		var recent []string
		for _, r := range probe.Replies() {
			if r.At.After(since) {
				recent = append(recent, r.MAC)
			}
		}
		g.Expect(recent).NotTo(BeEmpty())
		g.Expect(recent).To(HaveEach(owner.MAC.String()))
	}).WithTimeout(time.Minute).Should(Succeed(), "the owner takes the address back, alone")
	return moved.at.Sub(failed)
}

func plug(ctx context.Context, h lab.Host, plugged bool) {
	GinkgoHelper()
	Expect(f.Lab.SetPlugged(ctx, h, plugged)).To(Succeed())
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)*p+99)/100-1].Round(time.Millisecond)
}
