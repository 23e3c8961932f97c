package controller_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("Which pool a Service's address comes from", func() {
	var r testenv.AddrRange
	BeforeEach(func() { r = testenv.NewRange() })

	It("tries the pools pinned to the Service by priority, then the unrestricted ones", func(ctx context.Context) {
		space := newNamespace(ctx, nil)
		low, high := testenv.NewRange(), testenv.NewRange()
		createPool(ctx, "a-open", []string{r.V4(30)})
		createPool(ctx, "b-low", []string{low.V4(32)}, allocateTo(metallbv1beta1.ServiceAllocation{Priority: 20, Namespaces: []string{space}}))
		createPool(ctx, "c-high", []string{high.V4(32)}, allocateTo(metallbv1beta1.ServiceAllocation{Priority: 10, Namespaces: []string{space}}))
		first := createService(ctx, space, "first")
		expectAssigned(ctx, first, "c-high", high.IP(0))
		second := createService(ctx, space, "second")
		expectAssigned(ctx, second, "b-low", low.IP(0))
		third := createService(ctx, space, "third")
		expectAssigned(ctx, third, "a-open", r.IP(0))
	})

	It("uses a pool pinned to namespaces only for Services in them", func(ctx context.Context) {
		team, other := newNamespace(ctx, nil), newNamespace(ctx, nil)
		createPool(ctx, "team", []string{r.V4(30)}, allocateTo(metallbv1beta1.ServiceAllocation{Namespaces: []string{team}}))
		ours := createService(ctx, team, "web")
		theirs := createService(ctx, other, "web")
		expectAssigned(ctx, ours, "team", r.IP(0))
		expectPending(ctx, theirs, assign.ReasonNoMatchingPool)
	})

	It("uses a pool pinned by namespaceSelectors for the namespaces whose labels match, as they change", func(ctx context.Context) {
		team := newNamespace(ctx, map[string]string{"tier": "gold"})
		other := newNamespace(ctx, nil)
		open := testenv.NewRange()
		createPool(ctx, "a-gold", []string{r.V4(30)}, allocateTo(metallbv1beta1.ServiceAllocation{
			NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"tier": "gold"}}}}))
		createPool(ctx, "b-open", []string{open.V4(30)})
		gold := createService(ctx, team, "web")
		plain := createService(ctx, other, "web")
		expectAssigned(ctx, gold, "a-gold", r.IP(0))
		expectAssigned(ctx, plain, "b-open", open.IP(0))

		// The namespace loses the label: the pool no longer allows its Service, which moves.
		labelNamespace(ctx, team, nil)
		expectAssigned(ctx, gold, "b-open", open.IP(1))
	})

	It("uses a pool pinned by serviceSelectors for the Services whose labels match", func(ctx context.Context) {
		space := newNamespace(ctx, nil)
		open := testenv.NewRange()
		createPool(ctx, "a-db", []string{r.V4(30)}, allocateTo(metallbv1beta1.ServiceAllocation{
			ServiceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "db"}}}}))
		createPool(ctx, "b-open", []string{open.V4(30)})
		db := createService(ctx, space, "db", labelled(map[string]string{"app": "db"}))
		web := createService(ctx, space, "web", labelled(map[string]string{"app": "web"}))
		expectAssigned(ctx, db, "a-db", r.IP(0))
		expectAssigned(ctx, web, "b-open", open.IP(0))
	})

	It("uses an autoAssign: false pool only for Services that ask for it or for one of its addresses", func(ctx context.Context) {
		space := newNamespace(ctx, nil)
		createPool(ctx, "manual", []string{r.V4(29)}, manual())
		plain := createService(ctx, space, "plain")
		byPool := createService(ctx, space, "by-pool", annotate(assign.AnnotationAddressPool, "manual"))
		byIP := createService(ctx, space, "by-ip", annotate(assign.AnnotationLoadBalancerIPs, r.IP(5)))
		expectPending(ctx, plain, assign.ReasonNoMatchingPool)
		expectAssigned(ctx, byPool, "manual", r.IP(0))
		expectAssigned(ctx, byIP, "manual", r.IP(5))
	})
})
