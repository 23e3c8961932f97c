package controller_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/internal/assign"

	"github.com/ferrolb/ferrolb/test/testenv"
)

var _ = Describe("IP families", func() {
	var (
		space string
		r     testenv.AddrRange
	)
	BeforeEach(func(ctx context.Context) {
		space = newNamespace(ctx, nil)
		r = testenv.NewRange()
	})

	It("gives a SingleStack IPv6 Service an IPv6 address", func(ctx context.Context) {
		createPool(ctx, "dual", []string{r.V4(30), r.V6(126)})
		svc := createService(ctx, space, "web", families(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol))
		expectAssigned(ctx, svc, "dual", r.IP6(0))
	})

	It("gives a RequireDualStack Service an address of each family from one pool, IPv4 first", func(ctx context.Context) {
		v4 := testenv.NewRange()
		createPool(ctx, "a-v4", []string{v4.V4(30)})
		createPool(ctx, "b-dual", []string{r.V4(30), r.V6(126)})
		svc := createService(ctx, space, "web",
			families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol))
		expectAssigned(ctx, svc, "b-dual", r.IP(0), r.IP6(0))
	})

	It("gives a PreferDualStack Service both families from a pool that has both", func(ctx context.Context) {
		createPool(ctx, "dual", []string{r.V4(30), r.V6(126)})
		svc := createService(ctx, space, "web",
			families(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		expectAssigned(ctx, svc, "dual", r.IP(0), r.IP6(0))
	})

	It("gives a PreferDualStack Service its primary family, ipFamilies[0], when no pool has both", func(ctx context.Context) {
		v6 := testenv.NewRange()
		createPool(ctx, "a-v4", []string{r.V4(30)})
		createPool(ctx, "b-v6", []string{v6.V6(126)})
		v6first := createService(ctx, space, "v6first",
			families(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol))
		v4first := createService(ctx, space, "v4first",
			families(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		expectAssigned(ctx, v6first, "b-v6", v6.IP6(0))
		expectAssigned(ctx, v4first, "a-v4", r.IP(0))
	})

	It("leaves a RequireDualStack Service pending when no pool has both families", func(ctx context.Context) {
		createPool(ctx, "v4", []string{r.V4(30)})
		svc := createService(ctx, space, "web",
			families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		expectPending(ctx, svc, assign.ReasonPoolExhausted)
	})

	It("gives a Service upgraded from SingleStack to RequireDualStack an address of each family", func(ctx context.Context) {
		createPool(ctx, "a-v4", []string{r.V4(30)})
		dual := testenv.NewRange()
		createPool(ctx, "b-dual", []string{dual.V4(30), dual.V6(126)})
		svc := createService(ctx, space, "web", families(corev1.IPFamilyPolicySingleStack, corev1.IPv4Protocol))
		expectAssigned(ctx, svc, "a-v4", r.IP(0))
		update(ctx, svc, families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		expectAssigned(ctx, svc, "b-dual", dual.IP(0), dual.IP6(0))
	})
})
