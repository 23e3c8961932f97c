package speaker_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrolb/ferrolb/internal/metricsauth"
)

// The speaker protects its metrics with internal/metricsauth rather than controller-runtime's filter, whose
// dependencies cost every speaker about 13 MB of resident code: both must answer every request alike.
var _ = Describe("The speaker's metrics authentication", func() {
	It("answers like controller-runtime's filter: 401 without a valid token, 403 without the role, 200 with it", func(ctx context.Context) {
		admin, err := kubernetes.NewForConfig(env.Config)
		Expect(err).NotTo(HaveOccurred())
		token := func(sa string) string {
			Expect(k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}})).To(Succeed())
			DeferCleanup(k8s.Delete, context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}})
			tr, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authnv1.TokenRequest{}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			return tr.Status.Token
		}
		scraper, stranger := token("metrics-scraper"), token("metrics-stranger")
		reader := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metrics-auth-reader"},
			Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "metrics-auth-reader"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "metrics-scraper"}}}
		for _, o := range []client.Object{reader, binding} {
			Expect(k8s.Create(ctx, o)).To(Succeed())
			DeferCleanup(k8s.Delete, context.Background(), o)
		}

		// Both filters run as the speaker, with the generated role.
		serve := func(provider func(*rest.Config, *http.Client) (metricsserver.Filter, error)) string {
			httpClient, err := rest.HTTPClientFor(speakerCfg)
			Expect(err).NotTo(HaveOccurred())
			filter, err := provider(speakerCfg, httpClient)
			Expect(err).NotTo(HaveOccurred())
			h, err := filter(ctrl.Log, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "metallb_bgp_session_up 1\n")
			}))
			Expect(err).NotTo(HaveOccurred())
			srv := httptest.NewServer(h)
			DeferCleanup(srv.Close)
			return srv.URL
		}
		ours, theirs := serve(metricsauth.WithAuthenticationAndAuthorization), serve(filters.WithAuthenticationAndAuthorization)

		status := func(base, method, path, authorization string) int {
			req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
			Expect(err).NotTo(HaveOccurred())
			if authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			resp, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.StatusCode
		}
		for _, tc := range []struct {
			name, method, path, authorization string
			want                              int
			// controllerRuntime, when set, is what controller-runtime's filter answers instead.
			controllerRuntime int
		}{
			{"no token", http.MethodGet, "/metrics", "", http.StatusUnauthorized, 0},
			// The apiserver authenticator under controller-runtime's filter turns a refused token into an
			// error ("invalid bearer token"), which the filter answers as its own failure; the client's
			// credentials are at fault, and kube-rbac-proxy answers 401 as well.
			{"a token the API server refuses", http.MethodGet, "/metrics", "Bearer not-a-token", http.StatusUnauthorized, http.StatusInternalServerError},
			{"a ServiceAccount without the role", http.MethodGet, "/metrics", "Bearer " + stranger, http.StatusForbidden, 0},
			{"a ServiceAccount with the role", http.MethodGet, "/metrics", "Bearer " + scraper, http.StatusOK, 0},
			{"the same, again (cached)", http.MethodGet, "/metrics", "Bearer " + scraper, http.StatusOK, 0},
			{"a path the role does not name", http.MethodGet, "/debug", "Bearer " + scraper, http.StatusForbidden, 0},
			{"a verb the role does not grant", http.MethodPost, "/metrics", "Bearer " + scraper, http.StatusForbidden, 0},
		} {
			By(tc.name)
			Expect(status(ours, tc.method, tc.path, tc.authorization)).To(Equal(tc.want), "metricsauth")
			want := tc.want
			if tc.controllerRuntime != 0 {
				want = tc.controllerRuntime
			}
			Expect(status(theirs, tc.method, tc.path, tc.authorization)).To(Equal(want), "controller-runtime's filter")
		}
	})
})
