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
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestCertFilesCopy(t *testing.T) {
	key := types.NamespacedName{Namespace: namespace, Name: DefaultSecretName}
	secret := func(cert, tlsKey string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		if cert != "" {
			s.Data = map[string][]byte{corev1.TLSCertKey: []byte(cert), corev1.TLSPrivateKeyKey: []byte(tlsKey)}
		}
		return s
	}
	tests := []struct {
		name      string
		secret    *corev1.Secret
		existing  map[string]string
		wantSync  bool
		wantFiles map[string]string
	}{
		{name: "no secret yet", wantFiles: map[string]string{}},
		{name: "secret without certificate yet", secret: secret("", ""), wantFiles: map[string]string{}},
		{
			name: "certificate copied", secret: secret("cert", "key"), wantSync: true,
			wantFiles: map[string]string{"tls.crt": "cert", "tls.key": "key"},
		},
		{
			name: "stale certificate replaced", secret: secret("new cert", "new key"), wantSync: true,
			existing:  map[string]string{"tls.crt": "old cert", "tls.key": "old key"},
			wantFiles: map[string]string{"tls.crt": "new cert", "tls.key": "new key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.existing {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var objs []client.Object
			if tt.secret != nil {
				objs = append(objs, tt.secret)
			}
			f := &certFiles{reader: fakeReader(objs...), secret: key, dir: dir}
			synced, err := f.copy(context.Background())
			if synced != tt.wantSync || (err == nil) != tt.wantSync {
				t.Errorf("copy = %v, %v; want synced %v", synced, err, tt.wantSync)
			}
			got := map[string]string{}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				got[e.Name()] = string(data)
			}
			if len(tt.existing) > 0 && !tt.wantSync {
				return
			}
			if len(got) != len(tt.wantFiles) {
				t.Errorf("files %v, want %v", got, tt.wantFiles)
			}
			for name, want := range tt.wantFiles {
				if got[name] != want {
					t.Errorf("%s = %q, want %q", name, got[name], want)
				}
			}
		})
	}
}

func TestHasConversionWebhook(t *testing.T) {
	crd := func(conversion map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{}}}
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		u.SetName(bgpPeersCRD)
		if conversion != nil {
			u.Object["spec"] = map[string]any{"conversion": conversion}
		}
		return u
	}
	tests := []struct {
		name string
		objs []client.Object
		want bool
	}{
		{name: "no CRD"},
		{name: "no conversion", objs: []client.Object{crd(nil)}},
		{name: "conversion None", objs: []client.Object{crd(map[string]any{"strategy": "None"})}},
		{name: "conversion webhook", want: true, objs: []client.Object{crd(map[string]any{
			"strategy": "Webhook",
			"webhook":  map[string]any{"clientConfig": map[string]any{"service": map[string]any{"name": DefaultServiceName}}},
		})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hasConversionWebhook(context.Background(), fakeReader(tt.objs...), bgpPeersCRD)
			if err != nil || got != tt.want {
				t.Errorf("hasConversionWebhook = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
