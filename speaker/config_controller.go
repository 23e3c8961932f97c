package speaker

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/config"
	"github.com/ferrolb/ferrolb/internal/configstate"
	"github.com/ferrolb/ferrolb/speaker/bgp"
)

// ConfigReconciler parses the whole configuration, puts it in force when valid (the BGP sessions of the peers
// that select this node included), and reports the verdict in the ConfigurationState "speaker-<node>". An
// invalid configuration changes nothing that is announced. It runs again when this node's labels change, so
// that peers' nodeSelectors are evaluated against the current labels.
type ConfigReconciler struct {
	*Speaker
}

// +kubebuilder:rbac:groups=metallb.io,resources=ipaddresspools;l2advertisements;bgpadvertisements;bgppeers;bfdprofiles;communities,verbs=get;list;watch
// +kubebuilder:rbac:groups=metallb.io,resources=configurationstates,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=metallb.io,resources=configurationstates/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=secrets,verbs=get;list;watch

// StateName is the name of the speaker's ConfigurationState on a node.
func StateName(node string) string { return "speaker-" + node }

// Reconcile parses the configuration, applies it when valid, and writes the verdict.
func (r *ConfigReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (ctrl.Result, error) {
	res, err := r.resources(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	cfg, parseErr := config.Parse(res, config.WithSpeakerCapabilities(bgp.Capabilities))
	var (
		peers    []*config.Peer
		sessions []bgp.Session
	)
	if parseErr == nil && r.o.Router != nil {
		// What parsing cannot know: which peers select this node, and whether GoBGP can open their sessions
		// (a hold time of 0, for one).
		peers, sessions, parseErr = nodeSessions(cfg, nodeLabels(res.Nodes, r.o.NodeName))
	}
	var (
		routerErr error
		result    ctrl.Result
	)
	if parseErr == nil {
		if r.o.Router != nil && !r.frozen.Load() {
			// Level-based: sessions whose parameters did not change are left alone, whatever else changed.
			if routerErr = r.o.Router.SetPeers(ctx, sessions); routerErr != nil {
				result.RequeueAfter = peersRetry
			}
		}
		r.setConfig(cfg, peers)
		configLoaded.Set(1)
		configStale.Set(0)
		if routerErr != nil {
			configStale.Set(1)
			ctrl.LoggerFrom(ctx).Info("BGP sessions refused by the router", "error", routerErr.Error())
		}
		r.becomeReady(ctx)
	} else {
		configStale.Set(1)
		ctrl.LoggerFrom(ctx).Info("Configuration refused, keeping the previous one", "error", parseErr.Error())
	}
	return result, configstate.Report(ctx, r.Client, configstate.Verdict{
		Key:   types.NamespacedName{Namespace: r.o.Namespace, Name: StateName(r.o.NodeName)},
		Owner: r.o.Owner, ConditionType: metallbv1beta1.ConditionConfigReconcilerValid, Err: errors.Join(parseErr, routerErr),
		Labels: map[string]string{"metallb.io/component-type": "speaker", "metallb.io/node-name": r.o.NodeName},
	})
}

// nodeLabels returns the labels of the named node; nil if it is not among nodes.
func nodeLabels(nodes []corev1.Node, name string) map[string]string {
	for i := range nodes {
		if nodes[i].Name == name {
			return nodes[i].Labels
		}
	}
	return nil
}

// becomeReady converges every Service once, right here, the first time a configuration is in force, and
// then says the speaker is ready: a restarted speaker answers for what it wins before the others stop.
func (r *ConfigReconciler) becomeReady(ctx context.Context) {
	r.ready.Do(func() {
		services := &ServiceReconciler{Speaker: r.Speaker}
		reqs := services.allServices(ctx, nil)
		for _, req := range reqs {
			if _, err := services.Reconcile(ctx, req); err != nil {
				// The Service reconciler retries it; readiness does not wait for one Service.
				ctrl.LoggerFrom(ctx).Info("Converging a Service before becoming ready", "service", req.NamespacedName, "error", err.Error())
			}
		}
		// The status objects follow from now on: those of the Services converged above are asked for
		// already, and those whose Service is gone are asked for here.
		r.converged.Store(true)
		r.reviewStatuses(ctx)
		ctrl.LoggerFrom(ctx).Info("Ready: every Service converged", "services", len(reqs))
		if r.o.Ready != nil {
			r.o.Ready()
		}
	})
}

func (r *ConfigReconciler) resources(ctx context.Context) (config.Resources, error) {
	var (
		pools       metallbv1beta1.IPAddressPoolList
		l2          metallbv1beta1.L2AdvertisementList
		bgpAds      metallbv1beta1.BGPAdvertisementList
		peers       metallbv1beta2.BGPPeerList
		bfd         metallbv1beta1.BFDProfileList
		communities metallbv1beta1.CommunityList
		secrets     corev1.SecretList
		nodes       corev1.NodeList
	)
	for _, l := range []client.ObjectList{&pools, &l2, &bgpAds, &peers, &bfd, &communities, &secrets} {
		if err := r.List(ctx, l, client.InNamespace(r.o.Namespace)); err != nil {
			return config.Resources{}, fmt.Errorf("listing the configuration: %w", err)
		}
	}
	if err := r.List(ctx, &nodes); err != nil {
		return config.Resources{}, fmt.Errorf("listing Nodes: %w", err)
	}
	byName := make(map[string]corev1.Secret, len(secrets.Items))
	for _, s := range secrets.Items {
		byName[s.Name] = s
	}
	return config.Resources{
		Pools: pools.Items, L2Advertisements: l2.Items, BGPAdvertisements: bgpAds.Items, Peers: peers.Items,
		BFDProfiles: bfd.Items, Communities: communities.Items, PasswordSecrets: byName, Nodes: nodes.Items,
	}, nil
}

// SetupWithManager reconciles the one ConfigurationState whenever a configuration object of ferrolb's
// namespace changes, or the ConfigurationState is deleted (it is then created again).
func (r *ConfigReconciler) SetupWithManager(mgr ctrl.Manager) error {
	name := StateName(r.o.NodeName)
	only := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.o.Namespace, Name: name}}}
	})
	inNamespace := builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.o.Namespace }))
	b := ctrl.NewControllerManagedBy(mgr).
		Named("speaker-config").
		For(&metallbv1beta1.ConfigurationState{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetNamespace() == r.o.Namespace && o.GetName() == name
		})))
	for _, o := range []client.Object{&metallbv1beta1.IPAddressPool{}, &metallbv1beta1.L2Advertisement{},
		&metallbv1beta1.BGPAdvertisement{}, &metallbv1beta2.BGPPeer{}, &metallbv1beta1.BFDProfile{},
		&metallbv1beta1.Community{}, &corev1.Secret{}} {
		b = b.Watches(o, only, inNamespace)
	}
	return b.Watches(&corev1.Node{}, only, builder.WithPredicates(predicate.LabelChangedPredicate{})).Complete(r)
}
