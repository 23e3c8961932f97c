// Package helm tests the Helm chart charts/ferrolb: it renders the chart with Helm's Go library, as
// `helm install --dry-run` does, for the value sets of testdata/values against the golden files of
// testdata/golden (go test -update rewrites them), checks that the chart's CRDs, operator RBAC and webhook
// configuration are those of config/, and applies every rendered object with server-side dry-run against a real
// kube-apiserver (envtest).
//
// It is a Go module of its own (go.mod, with a replace of the main module to ../..), so that Helm's requirements
// never move the main module's dependency versions. Run it from this directory:
//
//	cd test/helm && KUBEBUILDER_ASSETS="$(cd ../.. && go run ./hack/k8sassets)" go test ./...
package helm
