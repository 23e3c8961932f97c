package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pathEnv lets daemons find what they run (iptables and sysctl in /usr/sbin, runc, the containerd shim).
const pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// startDaemon starts a long-running program in a lab network namespace (none for netns "") in its own session,
// so it outlives the caller and ignores its terminal, with output appended to logs/<name>.log and its pid in
// pids/<name>.pid. nsenter --net replaces itself with the program; unlike `ip netns exec` it keeps the
// caller's /sys, where kubelet and runc need the cgroup hierarchies.
func (l *Lab) startDaemon(name, netns string, argv ...string) error {
	if netns != "" {
		argv = append([]string{"nsenter", "--net=/run/netns/" + netns, "--"}, argv...)
	}
	logFile, err := os.OpenFile(l.path("logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the log of %s: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = l.Dir
	cmd.Env = []string{pathEnv, "HOME=" + l.Dir}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	// Reap it if it exits while this process lives (a test run); after that, init does.
	go func() { _ = cmd.Wait() }()
	return l.recordPid(name, cmd.Process.Pid)
}

// recordPid writes "<pid> <start time>" to pids/<name>.pid. The start time tells a recycled pid from ours.
func (l *Lab) recordPid(name string, pid int) error {
	start, err := startTime(pid)
	if err != nil {
		return fmt.Errorf("%s (pid %d) exited at once; see %s: %w", name, pid, l.path("logs", name+".log"), err)
	}
	content := fmt.Sprintf("%d %d\n", pid, start)
	if err := os.WriteFile(l.path("pids", name+".pid"), []byte(content), 0o644); err != nil {
		return fmt.Errorf("recording the pid of %s: %w", name, err)
	}
	return nil
}

// pidFile is one recorded daemon.
type pidFile struct {
	name  string
	pid   int
	start uint64
}

// readPidFiles lists the daemons recorded under dir/pids.
func readPidFiles(dir string) []pidFile {
	paths, _ := filepath.Glob(filepath.Join(dir, "pids", "*.pid"))
	var out []pidFile
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var pf pidFile
		if _, err := fmt.Sscanf(string(b), "%d %d", &pf.pid, &pf.start); err != nil {
			continue
		}
		pf.name = strings.TrimSuffix(filepath.Base(p), ".pid")
		out = append(out, pf)
	}
	return out
}

// running reports whether the recorded process still exists (and is not a zombie).
func (p pidFile) running() bool {
	st, err := readStat(p.pid)
	return err == nil && st.start == p.start && st.state != 'Z'
}

// Daemon is one long-running lab process.
type Daemon struct {
	// Name is the daemon's name, also its log's (logs/<name>.log): "kubelet-node1", "frr-bgpd".
	Name    string
	Pid     int
	Running bool
}

// Daemons lists the lab's daemons, in name order.
func (l *Lab) Daemons() []Daemon {
	var out []Daemon
	for _, p := range readPidFiles(l.Dir) {
		out = append(out, Daemon{Name: p.name, Pid: p.pid, Running: p.running()})
	}
	return out
}

// alive fails with the tail of the daemon's log when it is no longer running.
func (l *Lab) alive(name string) error {
	for _, p := range readPidFiles(l.Dir) {
		if p.name == name && p.running() {
			return nil
		}
	}
	return fmt.Errorf("%s is not running; last lines of %s:\n%s", name, l.path("logs", name+".log"), l.LogTail(name, 15))
}

// LogTail returns the last n lines of a daemon's log.
func (l *Lab) LogTail(name string, n int) string {
	b, err := os.ReadFile(l.path("logs", name+".log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// procStat is what /proc/<pid>/stat says that the lab needs.
type procStat struct {
	state byte
	ppid  int
	start uint64 // clock ticks after boot
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("parsing the parent of %d: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parsing the start time of %d: %w", pid, err)
	}
	return procStat{state: f[0][0], ppid: ppid, start: start}, nil
}

func startTime(pid int) (uint64, error) {
	st, err := readStat(pid)
	return st.start, err
}

// run runs a short command and returns its standard output; the error carries its standard error.
func run(ctx context.Context, argv ...string) ([]byte, error) {
	return runInput(ctx, "", argv...)
}

// runInput is run with stdin.
func runInput(ctx context.Context, stdin string, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), pathEnv)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && msg != "" {
			return stdout.Bytes(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, msg)
		}
		return stdout.Bytes(), fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return stdout.Bytes(), nil
}

// inNetns prefixes argv so that it runs in a lab network namespace.
func inNetns(netns string, argv ...string) []string {
	return append([]string{"nsenter", "--net=/run/netns/" + netns, "--"}, argv...)
}
