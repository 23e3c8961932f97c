// Package metricsauth protects a metrics endpoint as controller-runtime's
// filters.WithAuthenticationAndAuthorization does: a bearer token checked with a TokenReview, then a
// SubjectAccessReview for the request's verb on its non-resource path (get /metrics), both answers cached.
//
// It exists for the speaker, which runs on every node: controller-runtime's filter builds on k8s.io/apiserver's
// delegating authenticator and authorizer, which link the apiserver's authentication and authorization stacks
// and CEL into the binary, about 13 MB of code and read-only data whose pages end up resident in every speaker
// (docs/benchmarks.md, "BGP"). The behaviour is the same — the same reviews, the same cache lifetimes (1 minute
// for tokens, 5 minutes for an allowed request, 30 seconds for a denied one), the same retries and statuses —
// but for a token the API server refuses, which is 401 Unauthorized here (as kube-rbac-proxy answers) where
// controller-runtime's filter answers 500 (test/speaker checks both side by side).
package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	authnclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authzclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// The lifetimes of the cached answers and the bounds of a review, controller-runtime's.
const (
	tokenTTL      = time.Minute
	allowTTL      = 5 * time.Minute
	denyTTL       = 30 * time.Second
	reviewTimeout = 10 * time.Second
	// maxCached bounds each cache: beyond it, expired answers go, and then all of them.
	maxCached = 1024
)

// retry is the apiserver's default webhook retry backoff, as controller-runtime copies it.
var retry = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}

// WithAuthenticationAndAuthorization is a metricsserver.Options FilterProvider.
func WithAuthenticationAndAuthorization(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authnclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	authz, err := authzclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	a := &auth{reviewToken: func(ctx context.Context, tr *authnv1.TokenReview) (*authnv1.TokenReview, error) {
		return authn.TokenReviews().Create(ctx, tr, metav1.CreateOptions{})
	}, reviewAccess: func(ctx context.Context, sar *authzv1.SubjectAccessReview) (*authzv1.SubjectAccessReview, error) {
		return authz.SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	}, now: time.Now}
	return a.filter, nil
}

// auth holds the reviews and their cached answers.
type auth struct {
	reviewToken  func(context.Context, *authnv1.TokenReview) (*authnv1.TokenReview, error)
	reviewAccess func(context.Context, *authzv1.SubjectAccessReview) (*authzv1.SubjectAccessReview, error)
	now          func() time.Time

	tokens ttlCache[authnv1.UserInfo] // by the token's SHA-256; an empty user is a refused token
	access ttlCache[bool]             // by user, verb and path
}

func (a *auth) filter(log logr.Logger, next http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, err := a.authenticate(req)
		if err != nil {
			log.Error(err, "Authentication failed")
			http.Error(w, "Authentication failed", http.StatusInternalServerError)
			return
		}
		if user.Username == "" {
			log.V(4).Info("Authentication failed")
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		verb := strings.ToLower(req.Method)
		allowed, err := a.authorize(req.Context(), user, verb, req.URL.Path)
		if err != nil {
			msg := fmt.Sprintf("Authorization for user %s failed", user.Username)
			log.Error(err, msg)
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
		if !allowed {
			msg := fmt.Sprintf("Authorization denied for user %s", user.Username)
			log.V(4).Info(msg, "verb", verb, "path", req.URL.Path)
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, req)
	}), nil
}

// authenticate returns the user of the request's bearer token; an empty user when there is none or the API
// server refuses it.
func (a *auth) authenticate(req *http.Request) (authnv1.UserInfo, error) {
	token, ok := bearerToken(req)
	if !ok {
		return authnv1.UserInfo{}, nil
	}
	// The cache is keyed by the token's hash: the process keeps no token.
	sum := sha256.Sum256([]byte(token))
	key := string(sum[:])
	if user, ok := a.tokens.get(key, a.now()); ok {
		return user, nil
	}
	var review *authnv1.TokenReview
	err := a.withRetry(req.Context(), func(ctx context.Context) (err error) {
		review, err = a.reviewToken(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}})
		return err
	})
	if err != nil {
		return authnv1.UserInfo{}, fmt.Errorf("reviewing the token: %w", err)
	}
	var user authnv1.UserInfo
	if review.Status.Authenticated {
		user = review.Status.User
	}
	now := a.now()
	a.tokens.put(key, user, now.Add(tokenTTL), now)
	return user, nil
}

// authorize tells whether the user may use verb on the non-resource path.
func (a *auth) authorize(ctx context.Context, user authnv1.UserInfo, verb, path string) (bool, error) {
	key := fmt.Sprintf("%q %q %q %q %q %v", user.Username, user.UID, verb, path, user.Groups, user.Extra)
	if allowed, ok := a.access.get(key, a.now()); ok {
		return allowed, nil
	}
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups,
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	if len(user.Extra) > 0 {
		sar.Spec.Extra = make(map[string]authzv1.ExtraValue, len(user.Extra))
		for k, v := range user.Extra {
			sar.Spec.Extra[k] = authzv1.ExtraValue(v)
		}
	}
	var review *authzv1.SubjectAccessReview
	err := a.withRetry(ctx, func(ctx context.Context) (err error) {
		review, err = a.reviewAccess(ctx, sar)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reviewing access to %s %s: %w", verb, path, err)
	}
	allowed := review.Status.Allowed && !review.Status.Denied
	ttl := denyTTL
	if allowed {
		ttl = allowTTL
	}
	now := a.now()
	a.access.put(key, allowed, now.Add(ttl), now)
	return allowed, nil
}

// withRetry runs a review, each attempt bounded by reviewTimeout, retrying errors with the backoff.
func (a *auth) withRetry(ctx context.Context, review func(context.Context) error) error {
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, retry, func(ctx context.Context) (bool, error) {
		attempt, cancel := context.WithTimeout(ctx, reviewTimeout)
		defer cancel()
		last = review(attempt)
		return last == nil, nil
	})
	if last != nil {
		return last
	}
	return err
}

func bearerToken(req *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return "", false
	}
	return token, true
}

// ttlCache keeps answers until they expire, at most maxCached of them.
type ttlCache[V any] struct {
	mu      sync.Mutex
	answers map[string]cachedAnswer[V]
}

type cachedAnswer[V any] struct {
	value   V
	expires time.Time
}

func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.answers[key]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (c *ttlCache[V]) put(key string, value V, expires time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil {
		c.answers = map[string]cachedAnswer[V]{}
	}
	if len(c.answers) >= maxCached {
		for k, e := range c.answers {
			if !now.Before(e.expires) {
				delete(c.answers, k)
			}
		}
		if len(c.answers) >= maxCached {
			clear(c.answers)
		}
	}
	c.answers[key] = cachedAnswer[V]{value: value, expires: expires}
}
