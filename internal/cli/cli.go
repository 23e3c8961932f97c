// Package cli holds what ferrolb's binaries share on their command line and at start-up: MetalLB's log
// levels, flag defaults from the environment, and the pod a component runs in.
package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LogLevel maps MetalLB's --log-level values to zap's levels.
func LogLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "all", "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	case "none":
		return zapcore.FatalLevel, nil
	}
	return 0, fmt.Errorf("invalid --log-level %q: must be one of all, debug, info, warn, error, none", s)
}

// EnvOr returns the environment variable name, or def when it is unset or empty.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// PodNamespace is the namespace of the pod's service account, or metallb-system outside a cluster.
func PodNamespace() string {
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return "metallb-system"
}

// PodOwner returns a controller reference to the named pod, for the objects a component creates to go with
// it; nil when name is empty (the component runs outside a pod).
func PodOwner(ctx context.Context, r client.Reader, namespace, name string) (*metav1.OwnerReference, error) {
	if name == "" {
		return nil, nil
	}
	pod := &corev1.Pod{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, pod); err != nil {
		return nil, fmt.Errorf("reading the pod %s/%s: %w", namespace, name, err)
	}
	return metav1.NewControllerRef(pod, corev1.SchemeGroupVersion.WithKind("Pod")), nil
}
