package lab

import (
	"context"
	"fmt"
)

// ImportArchive loads an image archive that a caller packed (a docker archive or an OCI image layout in a tar,
// what `ctr images import` reads) into every node's containerd, in the namespace the kubelet uses. In an OCI
// layout, an image's io.containerd.image.name annotation is its name, digest references included: that is how
// hack/olm gives OLM images it never pulls.
func (l *Lab) ImportArchive(ctx context.Context, archive string) error {
	for _, n := range l.NodeHosts() {
		if _, err := run(ctx, "ctr", "-a", l.containerdSocket(n), "-n", "k8s.io", "images", "import", archive); err != nil {
			return fmt.Errorf("importing %s into %s: %w", archive, n.Name, err)
		}
	}
	return nil
}
