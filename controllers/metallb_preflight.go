/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Where the preflight checks look.
const (
	kubeSystem = "kube-system"
	// kubeProxyConfigMap is kubeadm's (and most distributions') kube-proxy configuration.
	kubeProxyConfigMap = "kube-proxy"
	// svclbPrefix names the DaemonSets of k3s' ServiceLB (klipper-lb), one per LoadBalancer Service.
	svclbPrefix = "svclb-"
	// k3sNodeArgs is the annotation k3s puts on its nodes with the server's arguments.
	k3sNodeArgs = "k3s.io/node-args"
)

// The preflight reads: kube-proxy's configuration and the DaemonSets of kube-system, with the uncached reader
// (one Get and one List per reconcile, rather than caches of a namespace the operator does not manage).
//
// +kubebuilder:rbac:groups="",namespace=kube-system,resources=configmaps,verbs=get,resourceNames=kube-proxy
// +kubebuilder:rbac:groups=apps,namespace=kube-system,resources=daemonsets,verbs=list

// preflight runs the checks about the cluster: kube-proxy's ARP mode, a competing k3s ServiceLB, and speakers
// missing from nodes. desired is the rendered speaker DaemonSet, live the one in the cluster (nil if none).
func (r *MetalLBReconciler) preflight(ctx context.Context, desired, live *appsv1.DaemonSet) ([]finding, error) {
	cm := &corev1.ConfigMap{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: kubeSystem, Name: kubeProxyConfigMap}, cm); apierrors.IsNotFound(err) {
		cm = nil
	} else if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", kubeSystem, kubeProxyConfigMap, err)
	}
	dss := &appsv1.DaemonSetList{}
	if err := r.APIReader.List(ctx, dss, client.InNamespace(kubeSystem)); err != nil {
		return nil, fmt.Errorf("listing DaemonSets of %s: %w", kubeSystem, err)
	}
	nodes := &corev1.NodeList{}
	if err := r.List(ctx, nodes); err != nil {
		return nil, fmt.Errorf("listing Nodes: %w", err)
	}
	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(r.Settings.Namespace),
		client.MatchingLabels(desired.Spec.Selector.MatchLabels)); err != nil {
		return nil, fmt.Errorf("listing speaker Pods: %w", err)
	}
	return []finding{
		kubeProxyFinding(cm),
		serviceLBFinding(dss.Items, nodes.Items),
		speakerFinding(desired.Spec.Template.Spec.NodeSelector, live, nodes.Items, pods.Items),
	}, nil
}

// kubeProxyConfig is the part of a KubeProxyConfiguration the check reads.
type kubeProxyConfig struct {
	Kind string `json:"kind"`
	Mode string `json:"mode"`
	IPVS struct {
		StrictARP bool `json:"strictARP"`
	} `json:"ipvs"`
}

// kubeProxyFinding: in IPVS mode, kube-proxy puts every Service address on the kube-ipvs0 interface of every
// node, and without strictARP the nodes answer ARP for them, contending with the speaker that announces each
// address (MetalLB's installation prerequisite).
func kubeProxyFinding(cm *corev1.ConfigMap) finding {
	f := finding{conditionType: ConditionStrictARPRequired}
	if cm == nil {
		f.reason, f.message = ReasonKubeProxyConfigNotFound, "No ConfigMap kube-system/kube-proxy: kube-proxy's mode is unknown"
		return f
	}
	var cfg *kubeProxyConfig
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range cm.Data {
			if !yield(k) {
				return
			}
		}
	}) {
		c := &kubeProxyConfig{}
		if err := yaml.Unmarshal([]byte(cm.Data[k]), c); err != nil || c.Kind != "KubeProxyConfiguration" {
			continue
		}
		cfg = c
		break
	}
	switch {
	case cfg == nil:
		f.reason, f.message = ReasonKubeProxyConfigNotFound, "ConfigMap kube-system/kube-proxy holds no KubeProxyConfiguration"
	case !strings.EqualFold(cfg.Mode, "ipvs"):
		f.reason, f.message = ReasonNotIPVSMode, "kube-proxy does not run in IPVS mode"
	case cfg.IPVS.StrictARP:
		f.reason, f.message = ReasonStrictARPEnabled, "kube-proxy runs in IPVS mode with strictARP"
	default:
		f.problem, f.reason = true, ReasonIPVSWithoutStrictARP
		f.message = "kube-proxy runs in IPVS mode without strictARP: every node answers ARP for the Service " +
			"addresses. Set ipvs.strictARP: true in ConfigMap kube-system/kube-proxy and restart kube-proxy"
	}
	return f
}

// serviceLBFinding: k3s' ServiceLB (klipper-lb) also handles LoadBalancer Services; with both, two
// implementations fight over each Service's status. k3s runs it unless started with --disable servicelb.
func serviceLBFinding(kubeSystemDaemonSets []appsv1.DaemonSet, nodes []corev1.Node) finding {
	f := finding{conditionType: ConditionConflictingLoadBalancer, reason: ReasonNoConflictFound,
		message: "No other load-balancer implementation found"}
	var svclb []string
	for _, ds := range kubeSystemDaemonSets {
		if strings.HasPrefix(ds.Name, svclbPrefix) {
			svclb = append(svclb, ds.Name)
		}
	}
	enabledOn := ""
	for _, n := range nodes {
		if raw, ok := n.Annotations[k3sNodeArgs]; ok && k3sServiceLBEnabled(raw) {
			enabledOn = n.Name
			break
		}
	}
	switch {
	case len(svclb) > 0:
		f.problem, f.reason = true, ReasonK3sServiceLBPresent
		f.message = fmt.Sprintf("k3s ServiceLB runs (DaemonSets %s in kube-system): start k3s with --disable servicelb",
			strings.Join(svclb, ", "))
	case enabledOn != "":
		f.problem, f.reason = true, ReasonK3sServiceLBPresent
		f.message = fmt.Sprintf("k3s server %s runs without --disable servicelb: its ServiceLB handles LoadBalancer Services too",
			enabledOn)
	}
	return f
}

// k3sServiceLBEnabled reads k3s' node-args annotation, a JSON list of the server's arguments, and reports
// whether it runs ServiceLB: a server (not an agent) without --disable servicelb (or --disable=servicelb,
// possibly in a comma list) nor --disable-servicelb.
func k3sServiceLBEnabled(raw string) bool {
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil || len(args) == 0 || args[0] != "server" {
		return false
	}
	for i, a := range args {
		value := ""
		switch {
		case a == "--disable-servicelb":
			return false
		case a == "--disable" && i+1 < len(args):
			value = args[i+1]
		case strings.HasPrefix(a, "--disable="):
			value = strings.TrimPrefix(a, "--disable=")
		}
		if slices.Contains(strings.Split(value, ","), "servicelb") {
			return false
		}
	}
	return true
}

// speakerFinding: a node the speakers' nodeSelector selects gets no speaker when the DaemonSet does not
// schedule one there (a taint without toleration) or its pod cannot be placed; such a node announces no
// address, and Services whose endpoints are all on it (externalTrafficPolicy: Local) get none.
func speakerFinding(nodeSelector map[string]string, live *appsv1.DaemonSet, nodes []corev1.Node, pods []corev1.Pod) finding {
	f := finding{conditionType: ConditionSpeakersUnschedulable}
	var pending []string
	for _, p := range pods {
		if p.Status.Phase != corev1.PodPending {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				pending = append(pending, p.Name)
			}
		}
	}
	if len(pending) > 0 {
		slices.Sort(pending)
		f.problem, f.reason = true, ReasonSpeakerPodsUnschedulable
		f.message = "Speaker pods cannot be scheduled: " + strings.Join(pending, ", ")
		return f
	}
	if live == nil || live.Status.ObservedGeneration < live.Generation {
		f.reason, f.message = ReasonNotChecked, "The speaker DaemonSet's status is not current yet"
		return f
	}
	sel := labels.SelectorFromSet(nodeSelector)
	matching := 0
	for _, n := range nodes {
		if sel.Matches(labels.Set(n.Labels)) {
			matching++
		}
	}
	if d := int(live.Status.DesiredNumberScheduled); d < matching {
		f.problem, f.reason = true, ReasonNodesWithoutSpeaker
		f.message = fmt.Sprintf("%d of the %d nodes matching the speakers' nodeSelector get no speaker "+
			"(taints without a matching speakerTolerations entry?)", matching-d, matching)
		return f
	}
	f.reason, f.message = ReasonAllNodesCovered, fmt.Sprintf("A speaker is scheduled on each of the %d matching nodes", matching)
	return f
}
