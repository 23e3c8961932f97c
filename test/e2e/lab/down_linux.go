package lab

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Timeouts of Down: daemons get a moment to exit cleanly (FRR removes its files), then everything is killed.
const (
	gracePeriod = 3 * time.Second
	killTimeout = 30 * time.Second
)

// leftovers reports whether a lab (running or crashed) left anything Down would remove.
func leftovers(dir string) bool {
	if _, err := os.Stat(dir); err == nil {
		return true
	}
	return len(labNetns()) > 0 || len(labCgroups()) > 0
}

// down removes the lab at dir in the order that lets each step succeed: processes (they hold mounts, cgroups
// and namespaces), mounts, the shims' sockets and CNI caches (found from files under dir), namespaces, cgroups,
// kernel settings kubelet changed, and last the state directory.
func down(ctx context.Context, dir string, log io.Writer) error {
	start := time.Now()
	logf := func(format string, args ...any) { fmt.Fprintf(log, "[lab] "+format+"\n", args...) }
	if err := stopProcesses(ctx, dir, logf); err != nil {
		return err
	}
	if err := unmountUnder(dir); err != nil {
		return err
	}
	var errs []error
	errs = append(errs, removeShimSockets(dir), removeCNICache(), removeFRRTempDirs(dir))
	for _, ns := range labNetns() {
		if _, err := run(ctx, "ip", "netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, cg := range labCgroups() {
		errs = append(errs, removeCgroupTree(cg))
	}
	errs = append(errs, restoreHostSysctls(dir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing the lab's leftovers (state kept in %s): %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	logf("Lab down in %s", time.Since(start).Round(10*time.Millisecond))
	return nil
}

// stopProcesses ends every lab process: first with SIGTERM, then, for what remains or was found later (container
// processes whose shim died), with SIGKILL, until none is left.
func stopProcesses(ctx context.Context, dir string, logf func(string, ...any)) error {
	procs := labProcesses(dir)
	if len(procs) == 0 {
		return nil
	}
	logf("Stopping %d processes", len(procs))
	signal(procs, syscall.SIGTERM)
	_ = poll(ctx, gracePeriod, "lab processes to exit", func(context.Context) error {
		return remaining(labProcesses(dir))
	})
	return poll(ctx, killTimeout, "lab processes to die", func(context.Context) error {
		procs := labProcesses(dir)
		signal(procs, syscall.SIGKILL)
		return remaining(procs)
	})
}

func signal(pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
}

func remaining(pids []int) error {
	if len(pids) == 0 {
		return nil
	}
	return fmt.Errorf("%d still running: %v", len(pids), pids)
}

// labProcesses lists the live processes that belong to the lab: recorded in a pid file (same start time), or
// inside a lab network namespace (a node's daemons, containerd's shims, pods), or in a lab cgroup (containers),
// or naming the state directory or a lab namespace on their command line (the forwarder). The caller and its
// ancestors are never listed.
func labProcesses(dir string) []int {
	netns := labNetnsInodes(dir)
	spared := ancestors()
	found := map[int]bool{}
	for _, p := range readPidFiles(dir) {
		if p.running() && !spared[p.pid] {
			found[p.pid] = true
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || spared[pid] || found[pid] {
			continue
		}
		if st, err := readStat(pid); err != nil || st.state == 'Z' {
			continue
		}
		if netns[netnsOf(pid)] || inLabCgroup(pid) || namesLab(pid, dir) {
			found[pid] = true
		}
	}
	pids := make([]int, 0, len(found))
	for pid := range found {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids
}

// ancestors is this process and every process above it.
func ancestors() map[int]bool {
	out := map[int]bool{}
	for pid := os.Getpid(); pid > 1 && !out[pid]; {
		out[pid] = true
		st, err := readStat(pid)
		if err != nil {
			break
		}
		pid = st.ppid
	}
	out[1] = true
	return out
}

func netnsOf(pid int) string {
	link, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	return link
}

func inLabCgroup(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if isLabCgroup(line) {
			return true
		}
	}
	return false
}

func namesLab(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	for _, arg := range strings.Split(string(b), "\x00") {
		if strings.HasSuffix(arg, dir) || strings.Contains(arg, dir+"/") || strings.Contains(arg, "/run/netns/"+Prefix+"-") {
			return true
		}
	}
	return false
}

// labNetns lists the lab's named network namespaces.
func labNetns() []string {
	matches, _ := filepath.Glob("/run/netns/" + Prefix + "-*")
	var names []string
	for _, m := range matches {
		names = append(names, filepath.Base(m))
	}
	return names
}

// labNetnsInodes identifies the lab's network namespaces as /proc/<pid>/ns/net shows them ("net:[<inode>]"):
// the named ones, and the pods' that containerd mounts under the state directory.
func labNetnsInodes(dir string) map[string]bool {
	paths, _ := filepath.Glob("/run/netns/" + Prefix + "-*")
	for _, m := range mountsUnder(dir) {
		if m.fsType == "nsfs" {
			paths = append(paths, m.point)
		}
	}
	out := map[string]bool{}
	for _, p := range paths {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err == nil {
			out[fmt.Sprintf("net:[%d]", st.Ino)] = true
		}
	}
	return out
}

// mount is one line of /proc/self/mountinfo.
type mount struct {
	point, fsType string
}

// mountsUnder lists the mounts at or below dir, deepest first.
func mountsUnder(dir string) []mount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "id parent major:minor root point options [optional...] - fstype source superoptions"
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		point := unescapeMountPath(fields[4])
		if point == dir || strings.HasPrefix(point, dir+"/") {
			out = append(out, mount{point: point, fsType: fields[sep+1]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].point) > len(out[j].point) })
	return out
}

// unescapeMountPath undoes mountinfo's octal escapes of space, tab, newline and backslash.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountUnder detaches every mount below dir (container root filesystems, pod volumes, pod network
// namespaces), deepest first, and fails if any remains: removing the directory must never reach into a mount.
func unmountUnder(dir string) error {
	for range 5 {
		mounts := mountsUnder(dir)
		if len(mounts) == 0 {
			return nil
		}
		for _, m := range mounts {
			_ = syscall.Unmount(m.point, syscall.MNT_DETACH)
		}
	}
	if left := mountsUnder(dir); len(left) > 0 {
		return fmt.Errorf("mounts remain under %s, e.g. %s", dir, left[0].point)
	}
	return nil
}

// shimSocketDir is where containerd 1.6's runc shims listen, whatever containerd's own state directory is.
const shimSocketDir = "/run/containerd/s"

// removeShimSockets removes the sockets of the shims a lab containerd started. A shim killed with SIGKILL leaves
// its socket; its name is sha256(<containerd address>/<namespace>/<sandbox id>) (containerd's
// shim.SocketAddress), and the sandbox ids are the task directories in the node's containerd state.
func removeShimSockets(dir string) error {
	sockets, _ := filepath.Glob(filepath.Join(dir, "*", "containerd.sock"))
	var errs []error
	for _, address := range sockets {
		taskDir := filepath.Join(filepath.Dir(address), "containerd", "state", "io.containerd.runtime.v2.task")
		namespaces, _ := os.ReadDir(taskDir)
		for _, ns := range namespaces {
			ids, _ := os.ReadDir(filepath.Join(taskDir, ns.Name()))
			for _, id := range ids {
				sum := sha256.Sum256([]byte(filepath.Join(address, ns.Name(), id.Name())))
				socket := filepath.Join(shimSocketDir, fmt.Sprintf("%x", sum))
				if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// cniCacheEntry matches libcni's cached result of a lab pod network, "<Prefix>-node<i>-<sandbox id>-<ifname>".
var cniCacheEntry = regexp.MustCompile(`^` + Prefix + `-node\d+-([0-9a-f]{64})-`)

// removeCNICache removes libcni's cached results of the lab's pods, which containerd 1.6 keeps in the
// machine-wide /var/lib/cni: the pod network's and that of the loopback network containerd adds to every pod.
func removeCNICache() error {
	const cache = "/var/lib/cni/results"
	entries, _ := os.ReadDir(cache)
	var errs []error
	for _, e := range entries {
		m := cniCacheEntry.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		for _, name := range []string{e.Name(), "cni-loopback-" + m[1] + "-lo"} {
			if err := os.Remove(filepath.Join(cache, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// removeFRRTempDirs removes the crash-log directories FRR daemons only remove themselves when they exit cleanly.
// A directory is named after the daemon's pid before it daemonized (/var/tmp/frr/<daemon>.<pid>), which the lab
// never sees; the daemon's own pid names the log buffer of its main thread inside (logbuf.<pid>).
func removeFRRTempDirs(dir string) error {
	var errs []error
	for _, p := range readPidFiles(dir) {
		daemon, ok := strings.CutPrefix(p.name, "frr-")
		if !ok {
			continue
		}
		candidates, _ := filepath.Glob(fmt.Sprintf("/var/tmp/frr/%s.*", daemon))
		for _, c := range candidates {
			if _, err := os.Stat(filepath.Join(c, fmt.Sprintf("logbuf.%d", p.pid))); err != nil {
				continue
			}
			if err := os.RemoveAll(c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
