package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// kubeletSysctls are the machine-wide kernel settings kubelet rewrites at start-up unless
// protectKernelDefaults, which instead refuses to start when they differ. The lab lets kubelet write them and
// Down puts the machine's values back.
var kubeletSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
}

const hostSysctlsFile = "host-sysctls.json"

// saveHostSysctls records the machine's values of kubeletSysctls before the first kubelet starts.
func (l *Lab) saveHostSysctls() error {
	values := map[string]string{}
	for _, key := range kubeletSysctls {
		b, err := os.ReadFile(filepath.Join("/proc/sys", key))
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		values[key] = strings.TrimSpace(string(b))
	}
	b, err := json.Marshal(values)
	if err != nil {
		return fmt.Errorf("encoding kernel settings: %w", err)
	}
	return os.WriteFile(l.path(hostSysctlsFile), b, 0o644)
}

// restoreHostSysctls writes back what saveHostSysctls recorded in dir, if anything.
func restoreHostSysctls(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, hostSysctlsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading the machine's kernel settings: %w", err)
	}
	var values map[string]string
	if err := json.Unmarshal(b, &values); err != nil {
		return fmt.Errorf("decoding %s: %w", hostSysctlsFile, err)
	}
	var errs []error
	for key, v := range values {
		if err := os.WriteFile(filepath.Join("/proc/sys", key), []byte(v+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}
