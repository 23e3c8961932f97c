// Package cli holds what ferrolb's binaries share on their command line and at start-up: MetalLB's log
// levels, flag defaults from the environment, the pod a component runs in, and the Go memory limit from the
// container's.
package cli

import (
	"context"
	"fmt"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
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

// memoryLimitShare is the part of a container's memory limit given to the Go heap: the rest is left to what Go
// does not count (the binary's pages, about 40 MiB in the speaker, and the kernel's buffers).
const memoryLimitShare = 0.8

// SetMemoryLimit gives the Go runtime a soft memory limit of 80 % of the container's memory limit, so that the
// collector works harder as the process nears the limit instead of letting the heap grow to twice what is
// live and the container be killed. It does nothing without a limit, or when GOMEMLIMIT is set (the runtime
// honours that). It logs and returns the limit it set, 0 for none.
func SetMemoryLimit(log logr.Logger) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	container := cgroupMemoryLimit(os.ReadFile)
	if container == 0 {
		return 0
	}
	set := int64(float64(container) * memoryLimitShare)
	debug.SetMemoryLimit(set)
	log.Info("Go memory limit from the container's", "containerLimitBytes", container, "goMemLimitBytes", set)
	return set
}

// cgroupMemoryLimit returns the memory limit of the process's cgroup, 0 when there is none or it cannot be
// read. It looks where /proc/self/cgroup says the process is, cgroup v2 then v1, then at the root of the
// mounts, which is the container's own cgroup when the runtime mounts it there. cgroup v1 reports no limit as
// a number close to 2^63.
func cgroupMemoryLimit(read func(string) ([]byte, error)) int64 {
	var v2, v1 []string
	if b, err := read("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.SplitN(line, ":", 3)
			if len(fields) != 3 {
				continue
			}
			if fields[0] == "0" && fields[1] == "" {
				v2 = append(v2, path.Join("/sys/fs/cgroup", fields[2], "memory.max"))
			} else if slices.Contains(strings.Split(fields[1], ","), "memory") {
				v1 = append(v1, path.Join("/sys/fs/cgroup/memory", fields[2], "memory.limit_in_bytes"))
			}
		}
	}
	candidates := append(append(v2, v1...), "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, p := range candidates {
		b, err := read(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 || v >= 1<<62 {
			return 0
		}
		return v
	}
	return 0
}
