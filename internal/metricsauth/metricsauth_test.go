package metricsauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
)

// fakeAPI answers reviews: tokens maps a token to its user, allowed lists "user verb path".
type fakeAPI struct {
	tokens           map[string]string
	allowed          map[string]bool
	fail             int // the next reviews that fail
	tokenReviews     int
	accessReviews    int
	lastAccessReview authzv1.SubjectAccessReviewSpec
}

func (f *fakeAPI) auth(now *time.Time) *auth {
	return &auth{
		reviewToken: func(_ context.Context, tr *authnv1.TokenReview) (*authnv1.TokenReview, error) {
			f.tokenReviews++
			if f.fail > 0 {
				f.fail--
				return nil, errors.New("connection refused")
			}
			if user, ok := f.tokens[tr.Spec.Token]; ok {
				tr.Status = authnv1.TokenReviewStatus{Authenticated: true,
					User: authnv1.UserInfo{Username: user, Groups: []string{"system:authenticated"}}}
			}
			return tr, nil
		},
		reviewAccess: func(_ context.Context, sar *authzv1.SubjectAccessReview) (*authzv1.SubjectAccessReview, error) {
			f.accessReviews++
			f.lastAccessReview = sar.Spec
			a := sar.Spec.NonResourceAttributes
			sar.Status.Allowed = f.allowed[sar.Spec.User+" "+a.Verb+" "+a.Path]
			return sar, nil
		},
		now: func() time.Time { return *now },
	}
}

func serve(t *testing.T, a *auth, method, authorization string) int {
	t.Helper()
	h, err := a.filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("metrics"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, "/metrics", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestFilterStatuses(t *testing.T) {
	api := &fakeAPI{tokens: map[string]string{"good": "prometheus", "other": "someone"},
		allowed: map[string]bool{"prometheus get /metrics": true}}
	now := time.Unix(0, 0)
	a := api.auth(&now)
	for _, tc := range []struct {
		name, method, authorization string
		want                        int
	}{
		{"no header", http.MethodGet, "", http.StatusUnauthorized},
		{"not a bearer token", http.MethodGet, "Basic Zm9vOmJhcg==", http.StatusUnauthorized},
		{"empty bearer token", http.MethodGet, "Bearer ", http.StatusUnauthorized},
		{"refused token", http.MethodGet, "Bearer bad", http.StatusUnauthorized},
		{"user without the role", http.MethodGet, "Bearer other", http.StatusForbidden},
		{"allowed user", http.MethodGet, "Bearer good", http.StatusOK},
		{"scheme in lower case", http.MethodGet, "bearer good", http.StatusOK},
		{"verb the role does not grant", http.MethodPost, "Bearer good", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := serve(t, a, tc.method, tc.authorization); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
	if got := api.lastAccessReview; got.User != "prometheus" || got.NonResourceAttributes.Verb != "post" ||
		len(got.Groups) != 1 {
		t.Errorf("last SubjectAccessReview %+v, want prometheus, post, its groups", got)
	}
}

func TestFilterCachesAnswers(t *testing.T) {
	api := &fakeAPI{tokens: map[string]string{"good": "prometheus", "other": "someone"},
		allowed: map[string]bool{"prometheus get /metrics": true}}
	now := time.Unix(0, 0)
	a := api.auth(&now)
	for range 3 {
		serve(t, a, http.MethodGet, "Bearer good")
		serve(t, a, http.MethodGet, "Bearer other")
		serve(t, a, http.MethodGet, "Bearer bad")
	}
	if api.tokenReviews != 3 || api.accessReviews != 2 {
		t.Fatalf("%d token and %d access reviews for 9 requests of 3 tokens, want 3 and 2", api.tokenReviews, api.accessReviews)
	}
	// A denied answer lives 30 s, a token 1 minute, an allowed answer 5 minutes.
	for _, step := range []struct {
		after                       time.Duration
		token                       string
		tokenReviews, accessReviews int
		want                        string
	}{
		{denyTTL, "other", 3, 3, "after 30 s, the denial reviewed again only"},
		{tokenTTL, "good", 4, 3, "after 90 s, the token reviewed again only"},
		{allowTTL, "good", 5, 4, "after 6.5 min, both reviewed again"},
	} {
		now = now.Add(step.after)
		serve(t, a, http.MethodGet, "Bearer "+step.token)
		if api.tokenReviews != step.tokenReviews || api.accessReviews != step.accessReviews {
			t.Errorf("%d token and %d access reviews, want %d and %d: %s", api.tokenReviews, api.accessReviews,
				step.tokenReviews, step.accessReviews, step.want)
		}
	}
}

func TestFilterRetriesThenFails(t *testing.T) {
	retry.Duration = time.Millisecond
	t.Cleanup(func() { retry.Duration = 500 * time.Millisecond })
	api := &fakeAPI{tokens: map[string]string{"good": "prometheus"}, allowed: map[string]bool{"prometheus get /metrics": true}}
	now := time.Unix(0, 0)
	a := api.auth(&now)

	api.fail = 2
	if got := serve(t, a, http.MethodGet, "Bearer good"); got != http.StatusOK {
		t.Errorf("two failed reviews, then an answer: status %d, want 200", got)
	}
	api.fail = retry.Steps
	if got := serve(t, a, http.MethodGet, "Bearer new"); got != http.StatusInternalServerError {
		t.Errorf("every review failed: status %d, want 500", got)
	}
	if api.tokens["new"] = "prometheus"; serve(t, a, http.MethodGet, "Bearer new") != http.StatusOK {
		t.Error("a failed review was cached")
	}
}

func TestCacheBound(t *testing.T) {
	var c ttlCache[bool]
	now := time.Unix(0, 0)
	for i := range maxCached + 10 {
		c.put(string(rune(i)), true, now.Add(time.Minute), now)
		if len(c.answers) > maxCached {
			t.Fatalf("%d answers cached, bound %d", len(c.answers), maxCached)
		}
	}
}
