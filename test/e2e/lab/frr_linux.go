package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// frrBinDir holds Debian's FRR daemons.
const frrBinDir = "/usr/lib/frr"

func (l *Lab) frrDir(elem ...string) string { return l.path(append([]string{"frr"}, elem...)...) }

// startRouter starts zebra, bfdd and bgpd by hand in the router namespace, with every file they use (config,
// sockets, pid files, logs) in the state directory: no systemd unit, nothing under /etc/frr. The daemons start
// as root and drop to user frr, so their directory belongs to frr.
func (l *Lab) startRouter(ctx context.Context) error {
	if err := l.writeFRRConfig(); err != nil {
		return err
	}
	for _, d := range frrDaemons {
		if err := l.startFRRDaemon(ctx, d); err != nil {
			return err
		}
		if d == "zebra" {
			if err := poll(ctx, 10*time.Second, "zebra's API socket", func(context.Context) error {
				_, err := os.Stat(l.frrDir("zserv.api"))
				return err
			}); err != nil {
				return err
			}
		}
	}
	return poll(ctx, 20*time.Second, "bgpd to answer vtysh", func(ctx context.Context) error {
		_, err := l.Vtysh(ctx, "show bgp summary json")
		return err
	})
}

func (l *Lab) writeFRRConfig() error {
	files := map[string]string{
		"zebra.conf": "hostname " + Router().Netns + "\n",
		"bfdd.conf":  "",
		"bgpd.conf":  bgpdConfig(l.Config),
		"vtysh.conf": "",
	}
	if err := os.MkdirAll(l.frrDir(), 0o755); err != nil {
		return fmt.Errorf("creating FRR's directory: %w", err)
	}
	for name, content := range files {
		if err := os.WriteFile(l.frrDir(name), []byte(content), 0o640); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return chownTree(l.frrDir(), "frr")
}

// startFRRDaemon runs one daemon with -d: it forks, the parent exits once the child runs, and the child writes
// its pid file, which the lab records like any other daemon's pid.
func (l *Lab) startFRRDaemon(ctx context.Context, daemon string) error {
	dir := l.frrDir()
	argv := inNetns(Router().Netns, filepath.Join(frrBinDir, daemon), "-d", "-P", "0",
		"--vty_socket", dir, "-z", filepath.Join(dir, "zserv.api"), "-i", filepath.Join(dir, daemon+".pid"),
		"-f", filepath.Join(dir, daemon+".conf"), "--log", "file:"+filepath.Join(dir, daemon+".log"))
	if _, err := run(ctx, argv...); err != nil {
		return fmt.Errorf("starting %s: %w", daemon, err)
	}
	var pid int
	if err := poll(ctx, 10*time.Second, daemon+"'s pid file", func(context.Context) error {
		b, err := os.ReadFile(filepath.Join(dir, daemon+".pid"))
		if err != nil {
			return err
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err
	}); err != nil {
		return err
	}
	return l.recordPid("frr-"+daemon, pid)
}

// RestartBGPD restarts the router's bgpd as a service restart would: SIGTERM (bgpd sends every neighbour a
// NOTIFICATION and exits), then a new bgpd with the same configuration. It returns once the new bgpd answers
// vtysh; the sessions come back when the nodes dial again (the router never connects out).
func (l *Lab) RestartBGPD(ctx context.Context) error {
	const name = "frr-bgpd"
	var old *pidFile
	for _, p := range readPidFiles(l.Dir) {
		if p.name == name && p.running() {
			old = &p
		}
	}
	if old == nil {
		return fmt.Errorf("%s is not running", name)
	}
	if err := syscall.Kill(old.pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping bgpd (pid %d): %w", old.pid, err)
	}
	if err := poll(ctx, 10*time.Second, "bgpd to exit", func(context.Context) error {
		if old.running() {
			return fmt.Errorf("pid %d still running", old.pid)
		}
		return nil
	}); err != nil {
		return err
	}
	// The new bgpd writes its own pid file; the old one must not be read in its place.
	if err := os.Remove(l.frrDir("bgpd.pid")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing bgpd's old pid file: %w", err)
	}
	if err := l.startFRRDaemon(ctx, "bgpd"); err != nil {
		return err
	}
	return poll(ctx, 20*time.Second, "bgpd to answer vtysh", func(ctx context.Context) error {
		_, err := l.Vtysh(ctx, "show bgp summary json")
		return err
	})
}

// Vtysh runs vtysh commands against the router's daemons and returns what they print.
func (l *Lab) Vtysh(ctx context.Context, commands ...string) ([]byte, error) {
	argv := []string{"vtysh", "--vty_socket", l.frrDir()}
	for _, c := range commands {
		argv = append(argv, "-c", c)
	}
	return run(ctx, argv...)
}

// VtyshJSON runs one vtysh command that ends in "json" and decodes its output into v.
func (l *Lab) VtyshJSON(ctx context.Context, command string, v any) error {
	out, err := l.Vtysh(ctx, command)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decoding the output of %q: %w\n%s", command, err, out)
	}
	return nil
}

// BGPSummary is the router's `show bgp summary json`.
func (l *Lab) BGPSummary(ctx context.Context) (BGPSummary, error) {
	var s BGPSummary
	err := l.VtyshJSON(ctx, "show bgp summary json", &s)
	return s, err
}

// chownTree gives dir and everything under it to the named user and its primary group.
func chownTree(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("looking up user %s (is the frr package installed?): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
}
