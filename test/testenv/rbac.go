package testenv

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// GrantGeneratedRole binds the roles generated from the RBAC markers (config/rbac/role.yaml: a ClusterRole
// and the Role of metallb-system) to user, so that a suite runs its reconcilers with exactly the permissions
// a deployment gets, and a write the markers do not allow fails a spec.
func GrantGeneratedRole(ctx context.Context, c client.Client, user string) error {
	raw, err := os.ReadFile(filepath.Join(RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		return err
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	for _, doc := range strings.Split(string(raw), "\n---") {
		var meta metav1.PartialObjectMetadata
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return fmt.Errorf("reading role.yaml: %w", err)
		}
		var objs []client.Object
		switch meta.Kind {
		case "ClusterRole":
			role := &rbacv1.ClusterRole{}
			if err := yaml.Unmarshal([]byte(doc), role); err != nil {
				return err
			}
			objs = []client.Object{role, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}, Subjects: subject}}
		case "Role":
			role := &rbacv1.Role{}
			if err := yaml.Unmarshal([]byte(doc), role); err != nil {
				return err
			}
			objs = []client.Object{role, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: role.Namespace, Name: role.Name},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}, Subjects: subject}}
		}
		for _, o := range objs {
			if err := c.Create(ctx, o); err != nil {
				return fmt.Errorf("granting the generated role: %w", err)
			}
		}
	}
	return nil
}

var rangeSeq atomic.Int32

// AddrRange is a fresh IPv4 /24 and IPv6 /120 for one spec's pools: every spec gets its own, so that what
// one spec leaves behind cannot change what the next one sees.
type AddrRange struct{ n int32 }

// NewRange returns an address range no other caller of the process got.
func NewRange() AddrRange { return AddrRange{rangeSeq.Add(1)} }

// V4 returns the range's IPv4 prefix of length bits, e.g. "172.16.5.0/30".
func (r AddrRange) V4(bits int) string { return fmt.Sprintf("%s/%d", r.IP(0), bits) }

// IP returns the range's i-th IPv4 address.
func (r AddrRange) IP(i int) string { return fmt.Sprintf("172.%d.%d.%d", 16+r.n/256, r.n%256, i) }

// V6 returns the range's IPv6 prefix of length bits, e.g. "fc00:0:5::/126".
func (r AddrRange) V6(bits int) string { return fmt.Sprintf("%s/%d", r.IP6(0), bits) }

// IP6 returns the range's i-th IPv6 address.
func (r AddrRange) IP6(i int) string {
	return netip.MustParseAddr(fmt.Sprintf("fc00:0:%x::%x", r.n, i)).String()
}

// Name returns a configuration object name unique to the range, e.g. "pool-5".
func (r AddrRange) Name(prefix string) string { return fmt.Sprintf("%s-%d", prefix, r.n) }
