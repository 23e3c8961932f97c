package speaker_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/controllers"
	"github.com/ferrolb/ferrolb/speaker"
	"github.com/ferrolb/ferrolb/speaker/bgp"
	"github.com/ferrolb/ferrolb/speaker/layer2/layer2test"
	"github.com/ferrolb/ferrolb/test/testenv"
)

// The suite runs three speakers in one process against a real kube-apiserver and etcd, one per Node object,
// each in its own manager with its own in-memory Announcer (layer2test.Fake) and BGP Router (bgp.Fake), and a
// shared fake memberlist.
// The controller's allocation reconcilers run too, as admin, so that Services get their addresses the way
// they do in a cluster (single, dual-stack and shared addresses included) rather than from status written
// by hand. The speakers run as the speaker's service account bound to the generated role
// (config/rbac/role.yaml) when that role holds the speaker's permissions, so a missing RBAC marker fails a
// spec; otherwise as admin, which the suite reports.

const (
	ns = "metallb-system"
	// speakerUser is who the speakers authenticate as when the generated role covers them.
	speakerUser = "system:serviceaccount:metallb-system:speaker"
)

// eventuallyTimeout is how long a spec waits for the speakers to react.
const eventuallyTimeout = 20 * time.Second

// nodeNames are the suite's nodes; each runs a speaker.
var nodeNames = []string{"node-a", "node-b", "node-c"}

var (
	env *envtest.Environment
	// k8s is the admin client the specs use.
	k8s client.Client
	// speakerCfg is the speakers' connection.
	speakerCfg *rest.Config
	// members is memberlist's view, shared by the three speakers.
	members = newMembership(nodeNames...)
	// running are the speakers by node name.
	running = map[string]*runningSpeaker{}
)

func TestSpeaker(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Speaker suite")
}

var _ = BeforeSuite(func(ctx context.Context) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(eventuallyTimeout)
	SetDefaultEventuallyPollingInterval(20 * time.Millisecond)
	SetDefaultConsistentlyDuration(time.Second)
	SetDefaultConsistentlyPollingInterval(50 * time.Millisecond)

	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// Dual-stack Services need a cluster IP range of each family.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16,fd00:10:96::/112")
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	k8s, err = client.New(cfg, client.Options{Scheme: testenv.Scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	for _, name := range nodeNames {
		Expect(k8s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: baseLabels(name)}})).To(Succeed())
	}

	speakerCfg = rest.CopyConfig(cfg)
	if missing := roleMisses(speakerNeeds); len(missing) == 0 {
		user, err := env.AddUser(envtest.User{Name: speakerUser, Groups: []string{"system:authenticated"}}, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(testenv.GrantGeneratedRole(ctx, k8s, speakerUser)).To(Succeed())
		speakerCfg = rest.CopyConfig(user.Config())
	} else {
		AddReportEntry("RBAC", "config/rbac/role.yaml lacks the speaker's permissions "+strings.Join(missing, ", ")+
			": the speakers run as admin", ReportEntryVisibilityAlways)
	}

	startController()
	for _, name := range nodeNames {
		startSpeaker(name)
	}
	DeferCleanup(func() {
		for _, name := range nodeNames {
			running[name].stop()
		}
	})
})

// baseLabels are a node's labels outside of the specs that change them.
func baseLabels(node string) map[string]string {
	return map[string]string{corev1.LabelHostname: node, corev1.LabelOSStable: "linux"}
}

// startController runs the controller binary's allocation reconcilers, as admin: they are the suite's
// fixture, and test/controller checks their RBAC.
func startController() {
	GinkgoHelper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:     testenv.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controllers.SetupAllocation(mgr, controllers.AllocationOptions{Namespace: ns, MaxConcurrentReconciles: 4})).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	DeferCleanup(func() { cancel(); <-done })
}

// runningSpeaker is one node's speaker: its manager, its Announcer, its BGP Router and its view of memberlist.
type runningSpeaker struct {
	node    string
	fake    *layer2test.Fake
	router  *bgp.Fake
	speaker *speaker.Speaker
	view    *memberView
	cancel  context.CancelFunc
	done    chan struct{}
}

// stop stops the speaker's manager, as a killed pod would stop: nothing is withdrawn.
func (r *runningSpeaker) stop() {
	r.cancel()
	<-r.done
	members.unsubscribe(r.view)
}

type speakerOption func(*speaker.Options)

// ignoringExcludeLB runs the speaker with --ignore-exclude-lb.
func ignoringExcludeLB() speakerOption {
	return func(o *speaker.Options) { o.IgnoreExcludeLB = true }
}

// startSpeaker runs the speaker binary's reconcilers for node in a fresh manager, with a fresh Announcer that
// has the interface eth0, configured like cmd/speaker (its cache in particular).
func startSpeaker(node string, opts ...speakerOption) *runningSpeaker {
	GinkgoHelper()
	mgr, err := ctrl.NewManager(speakerCfg, ctrl.Options{
		Scheme:     testenv.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:      speaker.CacheOptions(ns, node),
	})
	Expect(err).NotTo(HaveOccurred())
	r := &runningSpeaker{node: node, fake: layer2test.New("eth0"), router: bgp.NewFake(), view: members.subscribe(), done: make(chan struct{})}
	o := speaker.Options{NodeName: node, Namespace: ns, Announcer: r.fake, Members: r.view, Router: r.router}
	for _, opt := range opts {
		opt(&o)
	}
	r.speaker, err = speaker.Setup(mgr, o)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer GinkgoRecover()
		defer close(r.done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	running[node] = r
	return r
}

// restartSpeaker stops node's speaker and starts a fresh one with opts, as a restarted pod would.
func restartSpeaker(node string, opts ...speakerOption) *runningSpeaker {
	GinkgoHelper()
	running[node].stop()
	return startSpeaker(node, opts...)
}

// membership is a controllable memberlist: the set of live speakers, whose changes every subscribed speaker
// is told of.
type membership struct {
	mu    sync.Mutex
	live  sets.Set[string]
	views sets.Set[*memberView]
}

func newMembership(nodes ...string) *membership {
	return &membership{live: sets.New(nodes...), views: sets.New[*memberView]()}
}

// memberView is one speaker's speaker.Membership.
type memberView struct {
	m       *membership
	changes chan struct{}
}

var _ speaker.Membership = (*memberView)(nil)

func (v *memberView) Members() sets.Set[string] {
	v.m.mu.Lock()
	defer v.m.mu.Unlock()
	return v.m.live.Clone()
}

func (v *memberView) Changes() <-chan struct{} { return v.changes }

func (m *membership) subscribe() *memberView {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := &memberView{m: m, changes: make(chan struct{}, 1)}
	m.views.Insert(v)
	return v
}

func (m *membership) unsubscribe(v *memberView) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.views.Delete(v)
}

// snapshot returns the live speakers.
func (m *membership) snapshot() sets.Set[string] {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.live.Clone()
}

// leave removes node from the live speakers; the spec's cleanup brings it back.
func (m *membership) leave(node string) {
	m.change(func(live sets.Set[string]) { live.Delete(node) })
	DeferCleanup(m.join, node)
}

// join adds node to the live speakers.
func (m *membership) join(node string) {
	m.change(func(live sets.Set[string]) { live.Insert(node) })
}

func (m *membership) change(f func(sets.Set[string])) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.live)
	for v := range m.views {
		select {
		case v.changes <- struct{}{}:
		default: // coalesced with a signal not received yet
		}
	}
}

// permission is what the speaker needs on a resource.
type permission struct {
	group, resource string
	verbs           []string
}

// speakerNeeds are the permissions the speaker's code uses beyond what the controller's role has always held:
// if the generated role lacks them, its markers have not been generated into it yet.
var speakerNeeds = []permission{
	{"discovery.k8s.io", "endpointslices", []string{"list", "watch"}},
	{"metallb.io", "servicel2statuses", []string{"list", "watch", "create", "delete"}},
	{"metallb.io", "servicel2statuses/status", []string{"update"}},
	{"metallb.io", "servicebgpstatuses", []string{"list", "watch", "create", "delete"}},
	{"metallb.io", "servicebgpstatuses/status", []string{"update"}},
	{"events.k8s.io", "events", []string{"create", "patch"}},
}

// roleMisses returns the permissions of needs the ClusterRole of config/rbac/role.yaml does not grant.
func roleMisses(needs []permission) []string {
	GinkgoHelper()
	var rules []rbacv1.PolicyRule
	for _, doc := range roleDocuments() {
		role := &rbacv1.ClusterRole{}
		Expect(yaml.Unmarshal([]byte(doc), role)).To(Succeed())
		if role.Kind == "ClusterRole" {
			rules = append(rules, role.Rules...)
		}
	}
	var missing []string
	for _, need := range needs {
		for _, verb := range need.verbs {
			if !slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
				return len(r.ResourceNames) == 0 && slices.Contains(r.APIGroups, need.group) &&
					slices.Contains(r.Resources, need.resource) && slices.Contains(r.Verbs, verb)
			}) {
				missing = append(missing, need.resource+"."+need.group+":"+verb)
			}
		}
	}
	return missing
}

func roleDocuments() []string {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	return strings.Split(string(raw), "\n---")
}
