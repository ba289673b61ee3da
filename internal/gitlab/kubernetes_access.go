package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// Short-lived access to a cluster through its agent: GitLab's agent server (KAS) proxies the Kubernetes
// API for a user who authenticates with a personal access token of the k8s_proxy scope
// (doc/user/clusters/agent/user_access.md). GitLab 16.5 and later let a user create such a token for
// themselves, with POST /user/personal_access_tokens (lib/api/users.rb), which allows no other scope and
// needs a credential with the api scope; expires_at is a date, and the token stops working at 00:00 UTC
// that day. The token revokes itself with DELETE /personal_access_tokens/self
// (lib/api/personal_access_tokens/self_revocation.rb), whatever its scopes.

// K8sProxyScope is the scope of tokens for KAS's Kubernetes API proxy.
const K8sProxyScope = "k8s_proxy"

// userPATsSince is the GitLab version that brought POST /user/personal_access_tokens.
const userPATsSince = "16.5"

// KubernetesProxyToken is a personal access token for KAS's Kubernetes API proxy.
type KubernetesProxyToken struct {
	ID int64
	// Token is the secret; GitLab shows it only in the create answer.
	Token string
	// ExpiresAt is when the token stops working: 00:00 UTC of GitLab's expires_at date. Zero when GitLab
	// gave no expiry date.
	ExpiresAt time.Time
}

// KubernetesProxyURL is the URL of KAS's Kubernetes API proxy, from GET /metadata (derived from KAS's
// address before GitLab 17.6, as GitLab derives it). An error says so when KAS is disabled.
func (c *Client) KubernetesProxyURL(ctx context.Context) (string, error) {
	m, err := c.Metadata(ctx)
	if err != nil {
		return "", err
	}
	if m.KAS.Enabled && m.KAS.ExternalK8sProxyURL != nil && *m.KAS.ExternalK8sProxyURL != "" {
		return *m.KAS.ExternalK8sProxyURL, nil
	}
	gitlab := "GitLab"
	if m.Version != "" {
		gitlab += " " + m.Version
	}
	if !m.KAS.Enabled {
		return "", &Error{
			Summary: "GitLab's agent server (KAS) is disabled",
			Detail: fmt.Sprintf("%s says in GET /metadata that its agent server for Kubernetes (KAS) is not enabled, so "+
				"there is no Kubernetes API proxy to reach a cluster through. An administrator enables it (Linux "+
				"package: gitlab_kas['enable'] = true in /etc/gitlab/gitlab.rb, then gitlab-ctl reconfigure; Helm "+
				"chart: global.kas.enabled); until then, give the kubernetes and helm providers the cluster's own "+
				"address and credentials.", gitlab),
		}
	}
	return "", &Error{
		Summary: "GitLab tells no Kubernetes API proxy URL",
		Detail: fmt.Sprintf("%s says in GET /metadata that its agent server (KAS) is enabled, but gives neither "+
			"kas.externalK8sProxyUrl nor kas.externalUrl to derive it from. An administrator sets "+
			"gitlab_kas['external_url'] (or gitlab_kas['external_k8s_proxy_url']).", gitlab),
	}
}

// patJSON is the part of Entities::PersonalAccessTokenWithToken the provider reads.
type patJSON struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Token     string  `json:"token"`
	ExpiresAt *string `json:"expires_at"`
}

// CreateKubernetesProxyToken creates a personal access token of the k8s_proxy scope only for the
// token's own user, expiring on expiresOn (a date; GitLab ends the token at 00:00 UTC that day). The
// request is never repeated: when its outcome is unknown, the error says so (OutcomeUnknown) and names
// the token, which expires on that date all the same.
func (c *Client) CreateKubernetesProxyToken(ctx context.Context, name, description string, expiresOn time.Time) (*KubernetesProxyToken, error) {
	body := struct {
		Name        string   `json:"name"`
		Description string   `json:"description,omitempty"`
		Scopes      []string `json:"scopes"`
		ExpiresAt   string   `json:"expires_at"`
	}{name, description, []string{K8sProxyScope}, expiresOn.Format(time.DateOnly)}
	var out patJSON
	resp, err := c.send(ctx, http.MethodPost, "user/personal_access_tokens", &body, &out)
	if err = checkAnswer(resp, err, http.StatusCreated); err == nil {
		mismatch := ""
		switch {
		case out.Name != name:
			mismatch = fmt.Sprintf("it describes personal access token %q, not the token %q asked for", out.Name, name)
		case out.Token == "":
			mismatch = "it holds no token, which GitLab sends only in this answer"
		}
		if problem := newObjectProblem(resp, "personal access token", out.ID, mismatch); problem != "" {
			err = wrongObject(resp, http.StatusCreated, problem)
		}
	}
	if err != nil {
		return nil, c.createProxyTokenError(ctx, err, resp, name, expiresOn)
	}
	t := &KubernetesProxyToken{ID: out.ID, Token: out.Token}
	if out.ExpiresAt != nil {
		if at, err := time.Parse(time.DateOnly, *out.ExpiresAt); err == nil {
			t.ExpiresAt = at
		}
	}
	return t, nil
}

// createProxyTokenError explains a failed POST /user/personal_access_tokens.
func (c *Client) createProxyTokenError(ctx context.Context, err error, resp *gl.Response, name string, expiresOn time.Time) error {
	const action = "create a personal access token for the Kubernetes proxy"
	explained := explain(err, resp, action, Target{})
	var e *Error
	if !errors.As(explained, &e) {
		return explained
	}
	raw := ""
	if resp != nil && resp.Response != nil {
		raw = resp.Header.Get(messageHeader)
	}
	said := ""
	if e.GitLabMessage != "" {
		said = fmt.Sprintf(" GitLab said: %q.", e.GitLabMessage)
	}
	switch {
	case e.Status == http.StatusForbidden && strings.Contains(e.GitLabMessage, "insufficient_scope"):
		e.Summary = "The provider's token may not create personal access tokens"
		e.Detail = "GitLab refused POST /user/personal_access_tokens (403 insufficient_scope): creating a token for " +
			"the Kubernetes proxy needs a token with the `api` scope, and the provider's token lacks it." + said +
			" Use a personal access token with the `api` scope of the user who should reach the cluster."
		e.Check = []Setting{SettingToken}
	case e.Status == http.StatusUnprocessableEntity && strings.Contains(e.GitLabMessage, "Not permitted to create"):
		e.Summary = "GitLab does not let the provider's user create personal access tokens"
		e.Detail = "GitLab answered 422 Not permitted to create to POST /user/personal_access_tokens: this instance, " +
			"or the enterprise group the user belongs to, does not allow personal access tokens, or the provider's " +
			"token belongs to a bot user (a project or group access token, a service account), which cannot have " +
			"them." + said + " Configure the provider with a personal access token (`api` scope) of a user who may " +
			"create personal access tokens and is listed under the agent's `user_access`, or ask an administrator " +
			"to allow personal access tokens."
	case e.Status == http.StatusUnauthorized && !strings.Contains(e.GitLabMessage, "invalid_token"):
		e.Summary = "GitLab refused to create a personal access token"
		e.Detail = "GitLab answered 401 to POST /user/personal_access_tokens." + said + " Either the provider's token " +
			"is not valid (check the token), or this GitLab disables personal access tokens " +
			"altogether (an administrator's setting), in which case the Kubernetes proxy cannot be reached with one."
	case e.Status == http.StatusNotFound && strings.HasPrefix(raw, `{"error":`):
		e.Summary = "GitLab cannot create tokens for the Kubernetes proxy"
		version := ""
		if m, merr := c.Metadata(ctx); merr == nil {
			version = m.Version
		}
		if (instanceFacts{version: version}).olderThan(userPATsSince) {
			e.Detail = fmt.Sprintf("GitLab %s has no POST /user/personal_access_tokens: it came with GitLab %s. Upgrade "+
				"GitLab to reach clusters through their agents with short-lived tokens.", version, userPATsSince)
		} else {
			e.Detail = fmt.Sprintf("GitLab answered 404 to POST /user/personal_access_tokens, as GitLab before %s "+
				"does.%s Check the API URL, or upgrade GitLab.", userPATsSince, said)
			e.Check = []Setting{SettingURL}
		}
	case e.Status == http.StatusUnprocessableEntity:
		e.Detail = fmt.Sprintf("GitLab refused a token for the Kubernetes proxy expiring on %s, the shortest "+
			"expiry it allows.%s An administrator's limit on personal access tokens stands in the way.",
			expiresOn.Format(time.DateOnly), said)
	case e.Status == 0 || e.Status >= http.StatusInternalServerError || e.Answer != nil:
		// No answer, a 5xx, or an answer that is not GitLab's (something on the way may have passed the
		// request on).
		e.OutcomeUnknown = true
		e.Detail += fmt.Sprintf(" GitLab may have created the token %q anyway; if it did, nothing will use it, "+
			"and it stops working at 00:00 UTC on %s. Its user can revoke it sooner in GitLab under User "+
			"settings > Access tokens.", name, expiresOn.Format(time.DateOnly))
	}
	return e
}

// RevokeTokenSelf revokes a token with itself: DELETE /personal_access_tokens/self, authenticated with
// that token. A token that GitLab already refuses as revoked or expired is not an error: it no longer
// works, which is what was wanted.
func (c *Client) RevokeTokenSelf(ctx context.Context, token string, tokenID int64) error {
	resp, err := c.send(ctx, http.MethodDelete, "personal_access_tokens/self", nil, nil, gl.WithToken(gl.OAuthToken, token))
	if err = checkAnswer(resp, err, http.StatusNoContent); err == nil {
		return nil
	}
	explained := explain(err, resp, fmt.Sprintf("revoke personal access token %d", tokenID), Target{})
	var e *Error
	if !errors.As(explained, &e) {
		return explained
	}
	if e.Status == http.StatusUnauthorized && strings.Contains(e.GitLabMessage, "invalid_token") &&
		(strings.Contains(e.GitLabMessage, "revoked") || strings.Contains(e.GitLabMessage, "expired")) {
		return nil
	}
	if e.Status == http.StatusUnauthorized {
		// explain's advice is about the provider's token, which this request did not use.
		said := ""
		if e.GitLabMessage != "" {
			said = fmt.Sprintf(" GitLab said: %q.", e.GitLabMessage)
		}
		e.Detail = fmt.Sprintf("GitLab did not accept personal access token %d to revoke itself (401).%s", tokenID, said)
	}
	return e
}
