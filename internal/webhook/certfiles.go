/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package webhook

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// certFiles copies the serving certificate from the rotator's Secret into the webhook server's certificate
// directory, unless that directory is read-only: then it is the Secret mounted as a volume, and the kubelet
// copies it.
type certFiles struct {
	reader client.Reader
	secret types.NamespacedName
	dir    string
	// period is the interval between copies once the certificates are ready; until then it is a second.
	period time.Duration
	// mounted is set once writing to dir failed.
	mounted bool
}

// sync copies the certificate until ctx ends, and closes ready once the rotator is ready (rotated is closed)
// and dir holds the Secret's certificate, or is the mounted Secret.
func (f *certFiles) sync(ctx context.Context, rotated <-chan struct{}, ready chan<- struct{}) error {
	log := ctrl.Log.WithName("webhook")
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	isReady := false
	for {
		current := f.mounted
		if !f.mounted {
			var err error
			if current, err = f.copy(ctx); err != nil {
				log.V(1).Info("Cannot copy the webhook certificate yet", "secret", f.secret, "reason", err.Error())
			}
		}
		if !isReady && current && isClosed(rotated) {
			close(ready)
			isReady = true
			ticker.Reset(f.period)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// copy writes the Secret's certificate and key into dir if they differ from what is there, and reports
// whether dir holds them afterwards.
func (f *certFiles) copy(ctx context.Context) (bool, error) {
	secret := &corev1.Secret{}
	if err := f.reader.Get(ctx, f.secret, secret); err != nil {
		return false, fmt.Errorf("reading secret %s: %w", f.secret, err)
	}
	cert, key := secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey]
	if len(cert) == 0 || len(key) == 0 {
		return false, fmt.Errorf("secret %s holds no certificate yet", f.secret)
	}
	if sameFile(filepath.Join(f.dir, certFile), cert) && sameFile(filepath.Join(f.dir, keyFile), key) {
		return true, nil
	}
	// The key first: the webhook server reloads on the certificate's change, and then finds a matching key.
	for _, file := range []struct {
		name string
		data []byte
	}{{keyFile, key}, {certFile, cert}} {
		if err := writeAtomically(f.dir, file.name, file.data); err != nil {
			f.mounted = true
			ctrl.Log.WithName("webhook").Info("Certificate directory is not writable, relying on the mounted secret",
				"dir", f.dir, "secret", f.secret, "reason", err.Error())
			return false, nil
		}
	}
	ctrl.Log.WithName("webhook").Info("Copied webhook certificate", "dir", f.dir, "secret", f.secret)
	return true, nil
}

func sameFile(path string, data []byte) bool {
	current, err := os.ReadFile(path)
	return err == nil && bytes.Equal(current, data)
}

// writeAtomically replaces dir/name with data so that a reader never sees a partial file.
func writeAtomically(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+name+"-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("replacing %s: %w", name, err)
	}
	return nil
}
