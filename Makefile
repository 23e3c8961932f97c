# ferrolb — a bare-metal load balancer for Kubernetes, compatible with MetalLB's API.
#
# Two commands matter to a newcomer: `make demo` (the whole product on the built-in lab) and `make test`
# (every test). `make help` lists the rest.

# The release: its version (the OLM bundle's) and the image that holds every ferrolb binary. dist/install.yaml
# and bundle/ are committed for the release image; `make verify` regenerates them with it.
RELEASE_VERSION := 0.1.0
RELEASE_IMG := quay.io/ferrolb/ferrolb:v$(RELEASE_VERSION)
VERSION ?= $(RELEASE_VERSION)
IMG ?= quay.io/ferrolb/ferrolb:v$(VERSION)
# OLM channels of the bundle.
CHANNELS ?= alpha
DEFAULT_CHANNEL ?= alpha
BUNDLE_IMG ?= quay.io/ferrolb/ferrolb-bundle:v$(VERSION)

# Go: never download a toolchain (none can be downloaded here), build static binaries.
export GOTOOLCHAIN := local
GO ?= go

# The shell recipes use bash features (pipefail).
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs, RBAC and webhook manifests from the API markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./api/..." paths="./controllers/..." paths="./internal/webhook/..." paths="./cmd/..." paths="./speaker/..." paths="./" \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac \
		output:webhook:artifacts:config=config/webhook

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods from the API markers.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt against the code (and the Helm chart's test module, test/helm).
	$(GO) fmt ./...
	cd test/helm && $(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet against the code, including the end-to-end suite (build tag e2e).
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/e2e/...
	cd test/helm && $(GO) vet ./...

# fmt runs first: gofmt rewrites doc comments (e.g. two apostrophes become a typographic quote), and the
# markers in them must be generated from the formatted source.
# The install manifest and the bundle are regenerated for the release image, whatever IMG and VERSION say.
.PHONY: verify
verify: IMG = $(RELEASE_IMG)
verify: VERSION = $(RELEASE_VERSION)
verify: fmt manifests generate install-manifest bundle helm-chart ## Regenerate everything and fail if the tree differs from what is committed.
	@if ! git diff --quiet --exit-code -- . || [ -n "$$(git ls-files --others --exclude-standard -- api config bundle dist bundle.Dockerfile charts)" ]; then \
		echo "ERROR: generated or formatted files are stale. Run 'make manifests generate fmt install-manifest bundle' and commit:"; \
		git --no-pager diff --stat -- .; git ls-files --others --exclude-standard -- api config bundle dist bundle.Dockerfile charts; exit 1; \
	fi
	@echo "verify: generated code, manifests and formatting are up to date"

.PHONY: k8s-assets
k8s-assets: ## Build (once, cached) etcd, kube-apiserver and kubectl for envtest from the Go module proxy.
	$(GO) run ./hack/k8sassets >/dev/null

# The end-to-end part builds a lab of network namespaces and needs root. Without root `make test` fails loudly
# after the unit and envtest suites, unless SKIP_E2E=1 says to skip it on purpose.
.PHONY: test
test: manifests generate fmt vet k8s-assets ## Run every test: unit, envtest (real kube-apiserver + etcd), e2e (root; SKIP_E2E=1 skips).
	KUBEBUILDER_ASSETS="$$($(GO) run ./hack/k8sassets)" $(GO) test -json -count=1 ./... | $(GO) run ./hack/testsummary
	$(MAKE) --no-print-directory test-helm
	$(MAKE) --no-print-directory fuzz
	@if [ "$(SKIP_E2E)" = 1 ]; then \
		echo "e2e: SKIPPED because SKIP_E2E=1: the end-to-end suite did not run"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "################################################################################"; \
		echo "# e2e: NOT RUN. The end-to-end suite needs root (it builds a netns lab)."; \
		echo "# Run 'sudo make test', or 'make test SKIP_E2E=1' to skip it on purpose."; \
		echo "################################################################################"; \
		exit 1; \
	else \
		$(MAKE) --no-print-directory test-e2e; \
	fi

# Every fuzz target runs for FUZZTIME (one package at a time: go test -fuzz takes one target of one package).
FUZZTIME ?= 30s
FUZZ_TARGETS = internal/config:FuzzParsePoolAddresses internal/config:FuzzParseCommunities \
	internal/allocator:FuzzRangeToPrefixes internal/webhook:FuzzValidate internal/webhook:FuzzAdmissionReview \
	speaker/layer2:FuzzARPHandle speaker/layer2:FuzzNDPHandle internal/migrate:FuzzDecode internal/migrate:FuzzReadInput

# The Helm chart's tests are a Go module of their own (test/helm): Helm's dependencies stay out of ferrolb's.
.PHONY: test-helm
test-helm: k8s-assets ## Render the Helm chart (golden files, install contract) and dry-run it against a real API server.
	assets="$$($(GO) run ./hack/k8sassets)"; cd test/helm && KUBEBUILDER_ASSETS="$$assets" $(GO) test -count=1 ./...

.PHONY: helm-chart
helm-chart: manifests ## Copy config/'s CRDs, RBAC and webhooks into charts/ferrolb and re-render its golden files.
	cd test/helm && $(GO) test -count=1 -run 'TestCRDsMatchConfig|TestCopiesMatchConfig|TestGolden' ./... -update

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 30s) each.
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz: $$fn ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./$$pkg || exit 1; \
	done

.PHONY: test-e2e
test-e2e: ## Run the end-to-end suite in the netns lab (root): reuses a healthy lab, else brings one up and down.
	$(GO) test -tags e2e -json -count=1 -timeout 40m ./test/e2e/... | $(GO) run ./hack/testsummary

##@ Lab

.PHONY: demo
demo: ## The whole product on the lab (root): install, configure L2 and BGP, two Services answering the client.
	$(GO) run ./hack/demo up

.PHONY: demo-down
demo-down: ## Remove the demo: the whole lab and everything in it.
	$(GO) run ./hack/demo down

NODES ?= 2

.PHONY: lab-up
lab-up: ## Bring up the netns lab as root: NODES nodes (default 2), an FRR router, a client (see docs/lab.md).
	NODES=$(NODES) $(GO) run ./hack/lab up

.PHONY: lab-down
lab-down: ## Remove everything the lab created, also after a crash.
	$(GO) run ./hack/lab down

.PHONY: lab-status
lab-status: ## Show the lab's daemons, nodes, pods, BGP sessions at the router and the client's neighbours.
	$(GO) run ./hack/lab status

.PHONY: olm-demo
olm-demo: ## Install ferrolb through a real OLM in the lab (root): catalog, Subscription, CSV, a Service announced, an upgrade; then remove it all (KEEP=1 keeps it).
	$(GO) run ./hack/olm/demo $(if $(filter 1,$(KEEP)),-keep)

.PHONY: test-olm
test-olm: ## Run the OLM specs of the end-to-end suite in the lab (root); the first run builds OLM (minutes, cached).
	$(GO) test -tags e2e -json -count=1 -timeout 60m ./test/e2e/ -ginkgo.focus='OLM' | $(GO) run ./hack/testsummary

##@ Benchmarks

.PHONY: bench
bench: k8s-assets ## Run the benchmarks whose numbers are in docs/benchmarks.md (see there for the controller's).
	$(GO) test -run '^$$' -bench . -benchtime=300ms -count=5 ./internal/allocator/
	$(GO) test -run '^$$' -bench Detection -benchtime=20x ./speaker/layer2/memberlist/
	KUBEBUILDER_ASSETS="$$($(GO) run ./hack/k8sassets)" $(GO) test ./test/operator/ -run '^$$' -bench Operator -benchtime=1x

.PHONY: bench-failover
bench-failover: ## Layer 2 failover in the lab (root): 20 unplanned failures of each kind, and a speaker rollout.
	FERROLB_BENCH_FAILOVER=$${ROUNDS:-20} $(GO) test -v -tags e2e -count=1 -timeout 40m ./test/e2e/ -ginkgo.focus='Layer 2 failover' -ginkgo.v

.PHONY: bench-bgp
bench-bgp: ## BGP in the lab (root): N (100) Services one at a time, then SERVICES (10000) at once, and the speaker's memory.
	FERROLB_BENCH_BGP=$${SERVICES:-10000} FERROLB_BENCH_BGP_N=$${N:-100} $(GO) test -v -tags e2e -count=1 -timeout 90m ./test/e2e/ -ginkgo.focus='BGP benchmark' -ginkgo.v

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build every binary into bin/: manager (the operator) and one per cmd/<name>.
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/manager .
	for d in cmd/*/; do CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./$$d; done

.PHONY: run
run: manifests generate fmt vet ## Run the operator from your host against the current kubeconfig.
	$(GO) run ./main.go

.PHONY: docker-build
docker-build: ## Build the image with a Docker engine (none is needed for the lab, which packs images in Go).
	docker build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs from the cluster of the current kubeconfig.
	$(KUBECTL) delete --ignore-not-found -f config/crd/bases

.PHONY: install-manifest
install-manifest: manifests ## Write dist/install.yaml (config/default with IMG): CRDs, operator, webhook server (docs/install.md).
	$(GO) run ./hack/bundle install -img $(IMG) -o dist/install.yaml

.PHONY: deploy
deploy: manifests ## Install ferrolb (config/default with IMG) into the cluster of the current kubeconfig.
	$(GO) run ./hack/bundle install -img $(IMG) -o - | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove what deploy installed, CRDs and configuration included.
	$(GO) run ./hack/bundle install -img $(IMG) -o - | $(KUBECTL) delete --ignore-not-found -f -

##@ OLM

.PHONY: bundle
bundle: manifests ## Generate bundle/ and bundle.Dockerfile from config/manifests for IMG and VERSION (hack/bundle).
	$(GO) run ./hack/bundle bundle -img $(IMG) -version $(VERSION) -channels $(CHANNELS) \
		-default-channel $(DEFAULT_CHANNEL) -o bundle -dockerfile bundle.Dockerfile

.PHONY: bundle-validate
bundle-validate: ## Validate bundle/ as `operator-sdk bundle validate` does, with the operatorframework suite (test/install).
	$(GO) test -count=1 -run '^TestBundle' ./test/install/

.PHONY: bundle-build
bundle-build: ## Build the bundle image BUNDLE_IMG with a Docker engine.
	docker build -f bundle.Dockerfile -t $(BUNDLE_IMG) .

##@ Tools

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

KUBECTL ?= $(shell $(GO) run ./hack/k8sassets)/kubectl

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Build controller-gen (pinned) into bin/.
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

# go-install-tool builds a pinned tool into bin/ under a versioned name, so a version change rebuilds it.
# $1 - target path, $2 - package, $3 - exact version (the module proxy refuses @latest for some modules).
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
echo "Building $(2)@$(3)"; \
GOBIN=$(LOCALBIN) $(GO) install $(2)@$(3); \
mv "$(LOCALBIN)/$$(basename $(2))" "$(1)"; \
}
endef
