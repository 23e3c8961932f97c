/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	admissionmetrics "sigs.k8s.io/controller-runtime/pkg/webhook/admission/metrics"
	conversionmetrics "sigs.k8s.io/controller-runtime/pkg/webhook/conversion/metrics"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
)

// The generator test's knobs, from the environment: FERROLB_WEBHOOK_SEED (default 1) and
// FERROLB_WEBHOOK_OBJECTS (default 10000).
const (
	generatorRounds  = 10
	generatorWorkers = 8
	// mutationsPerRound are the changes made for real each round, one at a time; the other objects of the
	// round are sent with dry run, in parallel, against the configuration the round starts with.
	mutationsPerRound = 30
)

// Random objects of every kind, mostly invalid, go through the real API server and webhooks. The parser's own
// verdict on the configuration with the object decides what must happen: the configuration the API server
// holds is valid before every request (the test starts empty and only admitted changes are made), so a
// change must be admitted exactly when the configuration with it parses without problem. The API server's own
// validation (schema, CEL) refuses some objects before the webhooks see them; it must never refuse one the
// parser accepts either. Every refusal must name a field, and no handler may panic.
var _ = Describe("Random objects", func() {
	It("are admitted exactly when the parser finds the configuration valid", func(ctx context.Context) {
		seed := envInt("FERROLB_WEBHOOK_SEED", 1)
		total := envInt("FERROLB_WEBHOOK_OBJECTS", 10000)
		GinkgoWriter.Printf("generator seed %d, %d objects\n", seed, total)
		panicsBefore := admissionPanics()
		tally := newTally()
		start := time.Now()

		perRound := total / generatorRounds
		var dryRunTime, mutationTime time.Duration
		for round := range generatorRounds {
			g := newGenerator(uint64(seed), uint64(round))
			state := readState(ctx)
			t0 := time.Now()
			dryRun(ctx, g, state, round, perRound-mutationsPerRound, tally)
			t1 := time.Now()
			for range mutationsPerRound {
				state = mutate(ctx, g, state, tally)
			}
			dryRunTime, mutationTime = dryRunTime+t1.Sub(t0), mutationTime+time.Since(t1)
		}
		GinkgoWriter.Printf("dry run %s, changes %s\n", dryRunTime.Round(time.Second), mutationTime.Round(time.Second))

		AddReportEntry("generator", tally.String())
		GinkgoWriter.Printf("%s\n%d requests in %s\n", tally, tally.requests(), time.Since(start).Round(time.Second))
		Expect(tally.requests()).To(BeNumerically(">=", total))
		Expect(admissionPanics()).To(Equal(panicsBefore), "a webhook handler panicked")
		Expect(tally.failures).To(BeEmpty())
		_, err := config.Parse(readState(ctx), config.WithoutTransientReferences())
		Expect(err).NotTo(HaveOccurred(), "the stored configuration became invalid")
		Expect(tally.count("accepted")).To(BeNumerically(">", total/100), "too few valid objects to be meaningful")
	})
})

// dryRun sends n random objects, created or updated with dry run from parallel clients, and checks each
// answer against the parser's verdict on state with the object.
func dryRun(ctx context.Context, g *generator, state config.Resources, round, n int, t *tally) {
	existing := stateObjects(state)
	type job struct {
		obj    client.Object
		update bool
	}
	jobs := make([]job, n)
	for i := range jobs {
		if len(existing) > 0 && g.chance(0.3) {
			jobs[i] = job{obj: g.respec(pick(g, existing...)), update: true}
			continue
		}
		jobs[i] = job{obj: g.object(fmt.Sprintf("gen-%d-%d", round, i))}
	}

	queue := make(chan job)
	var wg sync.WaitGroup
	for range generatorWorkers {
		wg.Go(func() {
			defer GinkgoRecover()
			for j := range queue {
				var err error
				if j.update {
					err = k8s.Update(ctx, j.obj, client.DryRunAll)
				} else {
					err = k8s.Create(ctx, j.obj, client.DryRunAll)
				}
				t.check(j.obj, err, parserVerdict(state, j.obj))
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
}

// mutate makes one change of state for real: creates or updates an object named from the generator's small
// set, or deletes an existing object. It returns the configuration after the change.
func mutate(ctx context.Context, g *generator, state config.Resources, t *tally) config.Resources {
	existing := stateObjects(state)
	var err error
	if len(existing) > 0 && g.chance(0.2) {
		obj := pick(g, existing...)
		err = k8s.Delete(ctx, obj)
		t.checkDelete(obj, err, deleteVerdict(state, obj))
	} else {
		obj := g.object(g.name())
		if current := find(existing, obj); current != nil {
			obj = g.respec(current)
			err = k8s.Update(ctx, obj)
		} else {
			err = k8s.Create(ctx, obj)
		}
		t.check(obj, err, parserVerdict(state, obj))
	}
	if err != nil {
		return state
	}
	return readState(ctx)
}

// parserVerdict returns config.Parse's problems with the configuration state where obj replaces the object
// of its kind and name, or nil if it is valid. Objects outside ferrolb's namespace are refused.
func parserVerdict(state config.Resources, obj client.Object) error {
	if obj.GetNamespace() != ns {
		return errors.New("outside ferrolb's namespace")
	}
	after := state
	switch o := obj.(type) {
	case *v1beta1.IPAddressPool:
		after.Pools = withReplaced(state.Pools, *o)
	case *v1beta2.BGPPeer:
		after.Peers = withReplaced(state.Peers, *o)
	case *v1beta1.BGPPeer:
		hub := &v1beta2.BGPPeer{}
		Expect(o.ConvertTo(hub)).To(Succeed())
		after.Peers = withReplaced(state.Peers, *hub)
	case *v1beta1.BGPAdvertisement:
		after.BGPAdvertisements = withReplaced(state.BGPAdvertisements, *o)
	case *v1beta1.L2Advertisement:
		after.L2Advertisements = withReplaced(state.L2Advertisements, *o)
	case *v1beta1.Community:
		after.Communities = withReplaced(state.Communities, *o)
	case *v1beta1.BFDProfile:
		after.BFDProfiles = withReplaced(state.BFDProfiles, *o)
	default:
		Fail(fmt.Sprintf("unexpected %T", obj))
	}
	_, err := config.Parse(after, config.WithoutTransientReferences())
	return err
}

// deleteVerdict returns why deleting obj must be refused, or nil: a BFD profile a peer uses.
func deleteVerdict(state config.Resources, obj client.Object) error {
	if _, ok := obj.(*v1beta1.BFDProfile); !ok {
		return nil
	}
	for _, p := range state.Peers {
		if p.Spec.BFDProfile == obj.GetName() {
			return fmt.Errorf("used by BGPPeer %s", p.Name)
		}
	}
	return nil
}

// withReplaced returns a copy of objs with obj instead of the object of the same name.
func withReplaced[T any, P interface {
	*T
	client.Object
}](objs []T, obj T) []T {
	out := []T{obj}
	for i := range objs {
		if P(&objs[i]).GetName() != P(&obj).GetName() {
			out = append(out, objs[i])
		}
	}
	return out
}

// readState lists the configuration the API server holds, and the Nodes.
func readState(ctx context.Context) config.Resources {
	GinkgoHelper()
	var res config.Resources
	lists := []struct {
		list  client.ObjectList
		items func(client.ObjectList)
	}{
		{&v1beta1.IPAddressPoolList{}, func(l client.ObjectList) { res.Pools = l.(*v1beta1.IPAddressPoolList).Items }},
		{&v1beta2.BGPPeerList{}, func(l client.ObjectList) { res.Peers = l.(*v1beta2.BGPPeerList).Items }},
		{&v1beta1.BFDProfileList{}, func(l client.ObjectList) { res.BFDProfiles = l.(*v1beta1.BFDProfileList).Items }},
		{&v1beta1.BGPAdvertisementList{}, func(l client.ObjectList) { res.BGPAdvertisements = l.(*v1beta1.BGPAdvertisementList).Items }},
		{&v1beta1.L2AdvertisementList{}, func(l client.ObjectList) { res.L2Advertisements = l.(*v1beta1.L2AdvertisementList).Items }},
		{&v1beta1.CommunityList{}, func(l client.ObjectList) { res.Communities = l.(*v1beta1.CommunityList).Items }},
	}
	for _, l := range lists {
		Expect(k8s.List(ctx, l.list, client.InNamespace(ns))).To(Succeed())
		l.items(l.list)
	}
	nodes := &corev1.NodeList{}
	Expect(k8s.List(ctx, nodes)).To(Succeed())
	res.Nodes = nodes.Items
	return res
}

// stateObjects returns pointers to copies of every metallb.io object of the state.
func stateObjects(res config.Resources) []client.Object {
	var objs []client.Object
	for _, o := range res.Pools {
		objs = append(objs, &o)
	}
	for _, o := range res.Peers {
		objs = append(objs, &o)
	}
	for _, o := range res.BFDProfiles {
		objs = append(objs, &o)
	}
	for _, o := range res.BGPAdvertisements {
		objs = append(objs, &o)
	}
	for _, o := range res.L2Advertisements {
		objs = append(objs, &o)
	}
	for _, o := range res.Communities {
		objs = append(objs, &o)
	}
	return objs
}

// find returns the object of objs of the same resource and name as obj, or nil. v1beta1 and v1beta2 peers
// are the same resource.
func find(objs []client.Object, obj client.Object) client.Object {
	resource := func(o client.Object) string {
		if _, ok := o.(*v1beta1.BGPPeer); ok {
			return "*v1beta2.BGPPeer"
		}
		return fmt.Sprintf("%T", o)
	}
	for _, o := range objs {
		if resource(o) == resource(obj) && o.GetName() == obj.GetName() && o.GetNamespace() == obj.GetNamespace() {
			return o
		}
	}
	return nil
}

// admissionPanics returns how many panics the admission and conversion webhooks recovered from.
func admissionPanics() float64 {
	var total float64
	for _, counter := range []*prometheus.CounterVec{admissionmetrics.WebhookPanics, conversionmetrics.WebhookPanics} {
		m := &dto.Metric{}
		Expect(counter.WithLabelValues().Write(m)).To(Succeed())
		total += m.GetCounter().GetValue()
	}
	return total
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// tally counts the outcomes by kind and keeps every disagreement with the parser.
type tally struct {
	mu       sync.Mutex
	counts   map[string]map[string]int
	failures []string
}

func newTally() *tally { return &tally{counts: map[string]map[string]int{}} }

func (t *tally) add(obj client.Object, outcome, failure string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kind := strings.TrimPrefix(fmt.Sprintf("%T", obj), "*")
	if t.counts[kind] == nil {
		t.counts[kind] = map[string]int{}
	}
	t.counts[kind][outcome]++
	if failure != "" && len(t.failures) < 20 {
		t.failures = append(t.failures, fmt.Sprintf("%s %s/%s: %s", kind, obj.GetNamespace(), obj.GetName(), failure))
	}
}

// check compares the answer to a create or update with the parser's verdict.
func (t *tally) check(obj client.Object, err, verdict error) {
	switch {
	case err == nil && verdict != nil:
		t.add(obj, "INVALID ACCEPTED", fmt.Sprintf("admitted, but the parser says: %v\n%+v", verdict, obj))
	case err == nil:
		t.add(obj, "accepted", "")
	case !apierrors.IsInvalid(err):
		t.add(obj, "unexpected error", err.Error())
	case !namesFields(err):
		t.add(obj, "refusal naming no field", err.Error())
	case verdict == nil:
		t.add(obj, "VALID REFUSED", fmt.Sprintf("refused (%v), but the parser finds it valid\n%+v", err, obj))
	case byWebhook(err):
		t.add(obj, "refused by webhook", "")
	default:
		t.add(obj, "refused by API server", "")
	}
}

// checkDelete compares the answer to a deletion with the BFD profile rule.
func (t *tally) checkDelete(obj client.Object, err, verdict error) {
	switch {
	case err == nil && verdict == nil:
		t.add(obj, "deleted", "")
	case err == nil:
		t.add(obj, "DELETED IN USE", verdict.Error())
	case verdict == nil:
		t.add(obj, "VALID DELETE REFUSED", err.Error())
	case !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), verdict.Error()):
		t.add(obj, "unexpected delete refusal", err.Error())
	default:
		t.add(obj, "delete refused", "")
	}
}

func (t *tally) count(outcome string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		n += c[outcome]
	}
	return n
}

func (t *tally) requests() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		for _, v := range c {
			n += v
		}
	}
	return n
}

// String renders the counts, one line per kind.
func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for kind, c := range t.counts {
		var parts []string
		for outcome, n := range c {
			parts = append(parts, fmt.Sprintf("%s %d", outcome, n))
		}
		sort.Strings(parts)
		lines = append(lines, fmt.Sprintf("%-28s %s", kind, strings.Join(parts, ", ")))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
