// Package e2e is ferrolb's end-to-end suite: Ginkgo specs that run against the netns lab (package lab) — a real
// multi-node cluster, an FRR router and a client on one L2 segment. The specs build only with the e2e tag and
// need root:
//
//	make test-e2e          # or: go test -tags e2e ./test/e2e/... -count=1 -timeout 40m
//
// The suite reuses a healthy lab (make lab-up) and otherwise brings one up and removes it afterwards; see
// docs/lab.md.
package e2e
