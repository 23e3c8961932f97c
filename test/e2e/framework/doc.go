// Package framework is the end-to-end suite's toolbox over the lab (package lab): it brings the lab up once per
// run or reuses a healthy one, gives each spec namespaces that are deleted after it (also when it fails), and on
// failure dumps what a person needs to debug: pods, events, container logs, FRR's state, the client's neighbour
// table and the node daemons' logs.
//
// It is for Ginkgo specs (it registers cleanups with DeferCleanup); the lab itself knows nothing of Ginkgo.
package framework
