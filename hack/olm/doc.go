// Package olm installs ferrolb in the lab the way OperatorHub users do, through a real Operator Lifecycle
// Manager (docs/olm.md): it builds OLM and opm from the Go module proxy into a versioned cache (Builder), renders
// OLM's manifests from the Helm chart in OLM's module (Manifests), reads and adapts the bundle of bundle/
// (Bundle), renders and packs file-based catalogs (RenderCatalog, CatalogImage), packs images as an OCI layout
// whose digest names survive `ctr images import` (WriteArchive), loads everything into a lab (Prepare), and
// installs, subscribes, upgrades and removes (Install, Subscribe, SetCatalogImage, Remove).
//
// It is used by make olm-demo (hack/olm/demo) and the end-to-end suite (test/e2e/olm_test.go). It talks to the
// cluster with controller-runtime's client and unstructured objects: the project does not depend on OLM's API
// module, whose Kubernetes libraries are older than the project's. It must not import Ginkgo or Gomega.
package olm
