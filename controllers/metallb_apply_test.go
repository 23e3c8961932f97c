package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/render"
)

// TestApplyWaves checks the order apply relies on: every rendered object is applied exactly once, a binding
// after every role (the API server's escalation check reads the role), and the workloads after everything
// their pods use.
func TestApplyWaves(t *testing.T) {
	objs, err := render.Render(&metallbv1beta1.MetalLB{ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: MetalLBName}},
		render.Settings{Namespace: "metallb-system", ControllerImage: "c", SpeakerImage: "s"},
		render.WithWebhooks(true), render.WithServiceMonitors(true))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	seen := 0
	for i, wave := range applyWaves(objs.All()) {
		for _, o := range wave {
			kind := o.GetObjectKind().GroupVersionKind().Kind
			if prev, ok := kinds[kind]; ok && prev != i {
				t.Errorf("%s in waves %d and %d", kind, prev, i)
			}
			kinds[kind] = i
			seen++
		}
	}
	if seen != len(objs.All()) {
		t.Fatalf("waves hold %d objects, render made %d", seen, len(objs.All()))
	}
	for _, order := range [][2]string{
		{"Role", "RoleBinding"}, {"ClusterRole", "ClusterRoleBinding"}, {"ServiceAccount", "RoleBinding"},
		{"RoleBinding", "Deployment"}, {"ClusterRoleBinding", "DaemonSet"}, {"Secret", "DaemonSet"},
		{"ValidatingWebhookConfiguration", "Deployment"}, {"Service", "ServiceMonitor"},
	} {
		before, okB := kinds[order[0]]
		after, okA := kinds[order[1]]
		if !okB || !okA {
			t.Errorf("render made no %s or no %s", order[0], order[1])
			continue
		}
		if before >= after {
			t.Errorf("%s in wave %d, not before %s in wave %d", order[0], before, order[1], after)
		}
	}
}
