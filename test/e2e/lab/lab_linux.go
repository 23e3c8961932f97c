package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ferrolb/ferrolb/hack/assets"
)

// Lab is one lab on this machine, described by its Config. Its methods run as root.
type Lab struct {
	Config
	log io.Writer
}

// New returns a lab that Up will build from cfg. Progress lines go to log.
func New(cfg Config, log io.Writer) (*Lab, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid lab config: %w", err)
	}
	if cfg.SourceDir == "" {
		dir, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		cfg.SourceDir = dir
	}
	return &Lab{Config: cfg, log: orDiscard(log)}, nil
}

// Open returns the lab whose state directory is dir, as Up recorded it. It fails when there is none.
func Open(dir string, log io.Writer) (*Lab, error) {
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, err
	}
	return &Lab{Config: cfg, log: orDiscard(log)}, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Up builds the lab: packages, binaries and images first, then the network, the router, the control plane and
// the nodes, and returns once every node is Ready and pods can be created. Whatever an earlier lab left in the
// state directory or under Prefix is removed first. On failure the lab is left as it is for inspection; Down
// removes it.
func (l *Lab) Up(ctx context.Context) error {
	unlock, err := lockDir(l.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	start := time.Now()
	if leftovers(l.Dir) {
		l.logf("Removing what an earlier lab left behind")
		if err := down(ctx, l.Dir, l.log); err != nil {
			return fmt.Errorf("removing the earlier lab: %w", err)
		}
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"installing Debian packages", func(ctx context.Context) error { return EnsurePackages(ctx, l.log) }},
		{"building Kubernetes binaries", l.ensureBinaries},
		{"writing the state directory", l.writeState},
		{"building images", l.buildImages},
		{"creating the network", l.createNetwork},
		{"starting the router", l.startRouter},
		{"starting the control plane", l.startControlPlane},
		{"starting the nodes", l.startNodes},
		{"waiting for the cluster", l.waitForCluster},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		l.logf("%s: done in %s", s.name, time.Since(t).Round(10*time.Millisecond))
	}
	l.logf("Lab up in %s: %d nodes; export KUBECONFIG=%s", time.Since(start).Round(100*time.Millisecond), l.Nodes, l.HostKubeconfig())
	return nil
}

// Down stops and removes everything the lab at dir created. It is idempotent and works after a crash, from
// pid files and by scanning for what the lab names (see package doc).
func Down(ctx context.Context, dir string, log io.Writer) error {
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	return down(ctx, dir, orDiscard(log))
}

// HostKubeconfig is the kubeconfig for programs in the root namespace (through the API forwarder).
func (l *Lab) HostKubeconfig() string { return l.path("host.kubeconfig") }

// RESTConfig is the client configuration behind HostKubeconfig.
func (l *Lab) RESTConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", l.HostKubeconfig())
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", l.HostKubeconfig(), err)
	}
	return cfg, nil
}

// Clientset is a Kubernetes client for the lab's cluster.
func (l *Lab) Clientset() (kubernetes.Interface, error) {
	cfg, err := l.RESTConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client: %w", err)
	}
	return cs, nil
}

func (l *Lab) ensureBinaries(context.Context) error {
	_, err := (&assets.Builder{Log: l.log}).Ensure(append(append([]string{}, assets.EnvtestBinaries...), assets.NodeBinaries...)...)
	return err
}

// binary is the path of one of the Kubernetes binaries in the cache that ensureBinaries fills.
func (l *Lab) binary(name string) string {
	dir, err := (&assets.Builder{Log: l.log}).BinDir()
	if err != nil {
		// BinDir only fails without a home directory, and then Up failed before anything ran.
		return name
	}
	return filepath.Join(dir, name)
}

func (l *Lab) path(elem ...string) string { return filepath.Join(append([]string{l.Dir}, elem...)...) }

func (l *Lab) nodeDir(node Host, elem ...string) string {
	return l.path(append([]string{node.Name}, elem...)...)
}

func (l *Lab) logf(format string, args ...any) {
	fmt.Fprintf(l.log, "[lab] "+format+"\n", args...)
}

// lockDir serialises Up and Down of the state directory dir between processes (two test binaries, a test and
// the lab command). The lock is <dir>.lock beside the directory, so it survives Down removing the directory.
func lockDir(dir string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("creating the parent of %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Clean(dir)+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lab lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// LockSuite takes the lab's suite lock, waiting for its holder to finish: one end-to-end suite at a time per
// lab, and no image reload under a running suite. The specs deploy cluster-wide actors (controllers that
// converge every Service, speakers on the host network) that two suites would fight over.
func LockSuite(dir string, log io.Writer) (func(), error) {
	f, err := os.OpenFile(filepath.Clean(dir)+".suite.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the suite lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(orDiscard(log), "Another end-to-end suite is using the lab: waiting for it\n")
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
		}
	}
	return func() { f.Close() }, nil
}

// moduleRoot finds the ferrolb source tree from the working directory (the lab command runs at the root, a
// test binary in its package directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the working directory: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("looking for go.mod: %w", err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run the lab from the ferrolb source tree", dir)
		}
	}
}
