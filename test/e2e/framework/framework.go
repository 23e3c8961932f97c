//go:build linux

package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/ferrolb/ferrolb/test/e2e/lab"
)

// EnvKeep, set to 1, keeps a lab the suite brought up running after the suite, for debugging.
const EnvKeep = "FERROLB_LAB_KEEP"

// Timeouts every spec uses: Kubernetes objects settle within seconds in the lab; these bound a wait that would
// otherwise hang on a broken cluster.
const (
	Timeout      = 2 * time.Minute
	PollInterval = 500 * time.Millisecond
)

// Framework is the suite's handle on the lab and its cluster.
type Framework struct {
	// Lab runs commands in the lab's hosts (client, router, nodes).
	Lab *lab.Lab
	// Client talks to the lab's cluster.
	Client kubernetes.Interface

	log        io.Writer
	unlock     func()   // releases the suite lock
	broughtUp  bool     // Teardown removes only a lab this run brought up
	namespaces []string // created by the running spec, for Dump
}

// Setup returns a framework on a usable lab. A healthy running lab (make lab-up) is reused as it is, with the
// images rebuilt from the current source and loaded into it, and stays up after the suite. Otherwise the lab is
// built from the environment's settings (see lab.ConfigFromEnv), replacing whatever a crashed run left behind.
// When Setup fails after starting a build, it still returns the framework, so that Teardown removes it.
func Setup(ctx context.Context, log io.Writer) (*Framework, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the end-to-end suite builds a lab of network namespaces: run it as root")
	}
	cfg, err := lab.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	// One suite at a time per lab: the specs deploy cluster-wide actors (controllers that converge every
	// Service, speakers on the host network) that two suites would fight over. A second run waits here.
	unlock, err := lab.LockSuite(cfg.Dir, log)
	if err != nil {
		return nil, err
	}
	f, err := setup(ctx, cfg, log)
	if f == nil {
		unlock()
		return nil, err
	}
	f.unlock = unlock
	return f, err
}

func setup(ctx context.Context, cfg lab.Config, log io.Writer) (*Framework, error) {
	if running, err := lab.Open(cfg.Dir, log); err == nil {
		unhealthy := running.Healthy(ctx)
		if unhealthy == nil {
			unhealthy = demoInstalled(ctx, running)
		}
		if unhealthy == nil {
			fmt.Fprintf(log, "Reusing the running lab in %s (%d nodes); it stays up after the suite\n", cfg.Dir, running.Nodes)
			if err := running.LoadImages(ctx); err != nil {
				return nil, fmt.Errorf("loading the current images into the running lab: %w", err)
			}
			return newFramework(running, log, false)
		}
		fmt.Fprintf(log, "The lab in %s is not healthy (%v): rebuilding it\n", cfg.Dir, unhealthy)
	}
	l, err := lab.New(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := l.Up(ctx); err != nil {
		return &Framework{Lab: l, log: log, broughtUp: true}, err
	}
	return newFramework(l, log, true)
}

func newFramework(l *lab.Lab, log io.Writer, broughtUp bool) (*Framework, error) {
	cs, err := l.Clientset()
	if err != nil {
		return nil, err
	}
	return &Framework{Lab: l, Client: cs, log: log, broughtUp: broughtUp}, nil
}

// Teardown removes the lab if this run brought it up, unless EnvKeep asks to keep it, and lets the next suite in.
func (f *Framework) Teardown(ctx context.Context) error {
	if f.unlock != nil {
		defer f.unlock()
	}
	switch {
	case !f.broughtUp:
		fmt.Fprintf(f.log, "Leaving the reused lab up (make lab-down removes it)\n")
		return nil
	case os.Getenv(EnvKeep) == "1":
		fmt.Fprintf(f.log, "%s=1: leaving the lab up; KUBECONFIG=%s, make lab-down removes it\n", EnvKeep, f.Lab.HostKubeconfig())
		return nil
	}
	return lab.Down(ctx, f.Lab.Dir, f.log)
}

// demoInstalled says why a lab with make demo's stack in it cannot be reused: the demo's operator, speakers
// and webhooks would fight the specs' own.
func demoInstalled(ctx context.Context, l *lab.Lab) error {
	cs, err := l.Clientset()
	if err != nil {
		return err
	}
	ns, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "ferrolb.io/demo"})
	if err != nil {
		return err
	}
	if len(ns.Items) > 0 {
		return errors.New("make demo is installed in it (make demo-down removes it)")
	}
	return nil
}
