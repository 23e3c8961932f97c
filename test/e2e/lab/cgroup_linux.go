package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const cgroupMount = "/sys/fs/cgroup"

// cgroupHierarchies lists the directories whose children are cgroups: the unified root on a cgroup v2 machine,
// else every v1 hierarchy (and the v2 one a hybrid machine mounts beside them).
func cgroupHierarchies() []string {
	if _, err := os.Stat(filepath.Join(cgroupMount, "cgroup.controllers")); err == nil {
		return []string{cgroupMount}
	}
	var out []string
	entries, _ := os.ReadDir(cgroupMount)
	for _, e := range entries {
		h := filepath.Join(cgroupMount, e.Name())
		if _, err := os.Stat(filepath.Join(h, "cgroup.procs")); err == nil {
			out = append(out, h)
		}
	}
	return out
}

// prepareCgroupRoot creates a kubelet's cgroup root: kubelet refuses one missing from any v1 hierarchy, and a new
// cpuset cgroup has no CPUs or memory nodes until given its parent's.
func prepareCgroupRoot(name string) error {
	for _, h := range cgroupHierarchies() {
		if filepath.Base(h) == "unified" {
			continue // the hybrid v2 hierarchy: runc creates what it needs there
		}
		dir := filepath.Join(h, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating cgroup %s: %w", dir, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			parent, err := os.ReadFile(filepath.Join(h, f))
			if errors.Is(err, os.ErrNotExist) {
				continue
			} else if err != nil {
				return fmt.Errorf("reading %s: %w", f, err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), parent, 0o644); err != nil {
				return fmt.Errorf("writing %s/%s: %w", dir, f, err)
			}
		}
	}
	return nil
}

// labCgroups lists every lab cgroup root (named "<Prefix>-…") in every hierarchy.
func labCgroups() []string {
	var out []string
	for _, h := range cgroupHierarchies() {
		matches, _ := filepath.Glob(filepath.Join(h, Prefix+"-*"))
		out = append(out, matches...)
	}
	return out
}

// isLabCgroup reports whether a /proc/<pid>/cgroup line's path lies under a lab cgroup root.
func isLabCgroup(line string) bool {
	parts := strings.SplitN(line, ":", 3)
	return len(parts) == 3 && strings.HasPrefix(parts[2], "/"+Prefix+"-")
}

// removeCgroupTree removes a cgroup and its descendants, deepest first. rmdir is the only way to remove a cgroup
// (its control files cannot be deleted), and it fails while a process remains.
func removeCgroupTree(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("listing cgroup %s: %w", root, err)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
