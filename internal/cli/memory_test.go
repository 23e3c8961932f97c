package cli

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
)

func TestCgroupMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"cgroup v2, in the container's cgroup namespace", map[string]string{"/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "268435456\n"}, 256 << 20},
		{"cgroup v2, the process's own cgroup", map[string]string{"/proc/self/cgroup": "0::/kubepods/pod1/c1\n",
			"/sys/fs/cgroup/memory.max": "max", "/sys/fs/cgroup/kubepods/pod1/c1/memory.max": "268435456\n"}, 256 << 20},
		{"cgroup v2 without a limit", map[string]string{"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/memory.max": "max\n"}, 0},
		{"cgroup v1, mounted at the container's own", map[string]string{"/proc/self/cgroup": "4:memory:/kubepods/pod1/c1\n0::/\n",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes": "134217728\n"}, 128 << 20},
		{"cgroup v1, the process's own cgroup", map[string]string{"/proc/self/cgroup": "5:cpu,memory:/lb\n4:pids:/\n0::/\n",
			"/sys/fs/cgroup/memory/lb/memory.limit_in_bytes": "134217728\n",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes":    "9223372036854771712\n"}, 128 << 20},
		{"cgroup v1 without a limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"v2 before v1", map[string]string{"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/memory.max": "max",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes": "134217728"}, 0},
		{"unreadable", map[string]string{"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/memory.max": "garbage"}, 0},
		{"no cgroup files", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := func(path string) ([]byte, error) {
				if v, ok := tc.files[path]; ok {
					return []byte(v), nil
				}
				return nil, os.ErrNotExist
			}
			if got := cgroupMemoryLimit(read); got != tc.want {
				t.Errorf("cgroupMemoryLimit = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSetMemoryLimitLeavesGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "100MiB")
	if set := SetMemoryLimit(logr.Discard()); set != 0 {
		t.Errorf("SetMemoryLimit set %d with GOMEMLIMIT in the environment", set)
	}
}
