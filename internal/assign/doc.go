// Package assign decides which load-balancer addresses a Service gets, and why it gets none.
//
// It reads what a Service asks for (type, class, cluster IP families, the metallb.io/loadBalancerIPs,
// metallb.io/address-pool and metallb.io/allow-shared-ip annotations and their deprecated
// metallb.universe.tf forms, spec.loadBalancerIP, ports, externalTrafficPolicy), keeps the addresses it already
// holds when the configuration still allows them (so an address never moves on a restart or an unrelated
// change), and otherwise allocates through internal/allocator from the pools internal/config resolved, in
// MetalLB's order. The outcome carries a reason that the controller writes as a Service condition, so a
// pending Service always says why, and the events to emit.
//
// The package is pure: the standard library, k8s.io/api and k8s.io/apimachinery types, internal/config and
// internal/allocator. No client, no clock, no I/O.
package assign
