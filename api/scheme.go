// Package api gathers ferrolb's API versions.
package api

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	metallbv1beta1 "github.com/ferrolb/ferrolb/api/v1beta1"
	metallbv1beta2 "github.com/ferrolb/ferrolb/api/v1beta2"
)

// NewScheme returns a scheme that knows Kubernetes' built-in kinds and every ferrolb kind, for the binaries'
// managers and for tests.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(metallbv1beta1.AddToScheme(s))
	utilruntime.Must(metallbv1beta2.AddToScheme(s))
	return s
}
