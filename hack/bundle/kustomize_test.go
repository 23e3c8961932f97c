package main

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSplitImage(t *testing.T) {
	tests := []struct {
		img, name, tag, digest string
	}{
		{"quay.io/ferrolb/ferrolb:v0.1.0", "quay.io/ferrolb/ferrolb", "v0.1.0", ""},
		{"ferrolb", "ferrolb", "", ""},
		{"localhost:5000/ferrolb", "localhost:5000/ferrolb", "", ""},
		{"localhost:5000/ferrolb:dev", "localhost:5000/ferrolb", "dev", ""},
		{"quay.io/ferrolb/ferrolb@sha256:abc", "quay.io/ferrolb/ferrolb", "", "sha256:abc"},
		{"quay.io/ferrolb/ferrolb:v1@sha256:abc", "quay.io/ferrolb/ferrolb", "v1", "sha256:abc"},
	}
	for _, tt := range tests {
		t.Run(tt.img, func(t *testing.T) {
			name, tag, digest := splitImage(tt.img)
			if name != tt.name || tag != tt.tag || digest != tt.digest {
				t.Errorf("splitImage(%q) = %q, %q, %q; want %q, %q, %q", tt.img, name, tag, digest, tt.name, tt.tag, tt.digest)
			}
		})
	}
}

// TestImageOverride checks that IMG reaches every container and the operator's operand images.
func TestImageOverride(t *testing.T) {
	const img = "registry.example.org:5000/ferrolb:dev"
	objs, err := build("../../config", "default", img)
	if err != nil {
		t.Fatal(err)
	}
	deployments := 0
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		deployments++
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			c := c.(map[string]any)
			if c["image"] != img {
				t.Errorf("%s container %s: image %v, want %s", o.GetName(), c["name"], c["image"], img)
			}
			env, _ := c["env"].([]any)
			for _, e := range env {
				e := e.(map[string]any)
				if name := e["name"]; (name == "CONTROLLER_IMAGE" || name == "SPEAKER_IMAGE") && e["value"] != img {
					t.Errorf("%s %s = %v, want %s", o.GetName(), name, e["value"], img)
				}
			}
		}
	}
	if deployments != 2 {
		t.Errorf("%d Deployments, want the operator and the webhook server", deployments)
	}
}
