package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// GET /metadata tells any authenticated user which GitLab this is and where its agent server (KAS)
// is (lib/api/metadata.rb, doc/api/metadata.md). It came with GitLab 15.2; `enterprise` with 15.6 and
// kas.externalK8sProxyUrl with 17.6. Its scopes are api, read_api, read_user and ai_features: a token
// with only read_repository or k8s_proxy gets 403 insufficient_scope.

// metadataSince is the GitLab version that brought GET /metadata.
const metadataSince = "15.2"

// Metadata is GitLab's answer to GET /metadata.
type Metadata struct {
	// Version is GitLab's version, e.g. "18.1.1-ee".
	Version string
	// Revision is the short commit SHA of GitLab's build.
	Revision string
	// Enterprise says whether this is the Enterprise Edition codebase; nil before GitLab 15.6, which
	// did not send it.
	Enterprise *bool
	// KAS is the agent server.
	KAS KASMetadata
}

// KASMetadata is what GitLab tells about its agent server. Nil fields are GitLab's nulls: every
// field but Enabled is null while KAS is disabled, and Version also when GitLab could not reach KAS.
type KASMetadata struct {
	Enabled bool
	// ExternalURL is the address agentk connects to (the Helm chart's config.kasAddress), e.g.
	// wss://kas.gitlab.com.
	ExternalURL *string
	// ExternalK8sProxyURL is the URL of KAS's Kubernetes API proxy.
	ExternalK8sProxyURL *string
	// K8sProxyURLDerived is set when GitLab (before 17.6) did not send ExternalK8sProxyURL and it was
	// derived from ExternalURL as GitLab derives it.
	K8sProxyURLDerived bool
	Version            *string
}

// metadataCache holds one successful GET /metadata per client, shared by everything that needs it in
// a run: the agent server's description, the receptive-agent errors, the Kubernetes access.
type metadataCache struct {
	mu   sync.Mutex // held while the one request is under way
	meta *Metadata
}

// metadataJSON is the body of GET /metadata.
type metadataJSON struct {
	Version    string `json:"version"`
	Revision   string `json:"revision"`
	Enterprise *bool  `json:"enterprise"`
	KAS        *struct {
		Enabled             bool    `json:"enabled"`
		ExternalURL         *string `json:"externalUrl"`
		ExternalK8sProxyURL *string `json:"externalK8sProxyUrl"`
		Version             *string `json:"version"`
	} `json:"kas"`
}

// Metadata reads GET /metadata once per client: later calls, and calls made while the first is under
// way, share its answer. A failed read is not kept, so the next call asks again.
func (c *Client) Metadata(ctx context.Context) (Metadata, error) {
	c.metadata.mu.Lock()
	defer c.metadata.mu.Unlock()
	if c.metadata.meta != nil {
		return *c.metadata.meta, nil
	}
	var body metadataJSON
	resp, err := c.send(ctx, http.MethodGet, "metadata", nil, &body)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil && (body.Version == "" || body.KAS == nil) {
		// GitLab always tells its version and its agent server; an answer without them would read as
		// "KAS disabled".
		problem := "it holds neither GitLab's version nor its agent server (kas)"
		if start := strings.TrimSpace(answerStart(resp)); start == "{}" || start == "[]" {
			problem = emptyDocument(start) + " (GitLab sends its version and its agent server)"
		} else if body.Version != "" {
			problem = "it does not describe GitLab's agent server (kas), which GitLab always does"
		} else if body.KAS != nil {
			problem = "it holds no GitLab version, which GitLab always sends"
		}
		err = wrongObject(resp, http.StatusOK, problem)
	}
	if err != nil {
		return Metadata{}, c.metadataError(ctx, err, resp)
	}
	m := Metadata{Version: body.Version, Revision: body.Revision, Enterprise: body.Enterprise}
	if body.KAS != nil {
		m.KAS = KASMetadata{
			Enabled:             body.KAS.Enabled,
			ExternalURL:         body.KAS.ExternalURL,
			ExternalK8sProxyURL: body.KAS.ExternalK8sProxyURL,
			Version:             body.KAS.Version,
		}
		if m.KAS.Enabled && m.KAS.ExternalK8sProxyURL == nil && m.KAS.ExternalURL != nil {
			if derived := DeriveK8sProxyURL(*m.KAS.ExternalURL); derived != "" {
				m.KAS.ExternalK8sProxyURL, m.KAS.K8sProxyURLDerived = &derived, true
			}
		}
	}
	c.metadata.meta = &m
	return m, nil
}

// DeriveK8sProxyURL is the Kubernetes API proxy URL GitLab derives from KAS's external URL when none is
// configured (lib/gitlab/kas.rb): URI.join(externalUrl, "k8s-proxy"), with https for grpcs and wss,
// http otherwise. It returns "" for a URL it cannot read.
func DeriveK8sProxyURL(external string) string {
	u, err := url.Parse(external)
	if err != nil || u.Host == "" {
		return ""
	}
	u = u.ResolveReference(&url.URL{Path: "k8s-proxy"})
	if u.Scheme == "grpcs" || u.Scheme == "wss" {
		u.Scheme = "https"
	} else {
		u.Scheme = "http"
	}
	return u.String()
}

// IsMetadataUnavailable reports whether an error of Metadata says that this GitLab, or this token,
// cannot be asked (GitLab before 15.2, a token scope GET /metadata refuses), as opposed to a failed
// request.
func IsMetadataUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && strings.HasPrefix(e.Summary, metadataUnavailableSummary)
}

const metadataUnavailableSummary = "GitLab's metadata cannot be read"

// metadataError explains a failed GET /metadata: a GitLab before 15.2 (which has no such route; GET
// /version, which it does have, tells its version), a token whose scopes GET /metadata refuses, or
// whatever explain says.
func (c *Client) metadataError(ctx context.Context, err error, resp *gl.Response) error {
	const action = "read GitLab's metadata (GET /metadata)"
	var e *Error
	if !errors.As(explain(err, resp, action, Target{}), &e) {
		return err
	}
	raw := ""
	if resp != nil && resp.Response != nil {
		raw = resp.Header.Get(messageHeader)
	}
	switch {
	case e.Status == http.StatusNotFound && strings.HasPrefix(raw, `{"error":`):
		var version struct {
			Version string `json:"version"`
		}
		vresp, verr := c.send(ctx, http.MethodGet, "version", nil, &version)
		verr = checkAnswer(vresp, verr, http.StatusOK)
		older := verr == nil && instanceFacts{version: version.Version}.olderThan(metadataSince)
		switch {
		case older:
			e.Summary = fmt.Sprintf("%s: GitLab %s is older than %s", metadataUnavailableSummary, version.Version, metadataSince)
			e.Detail = fmt.Sprintf("GitLab answered 404 %q to GET /metadata: GitLab %s predates GitLab %s, which "+
				"brought the endpoint that tells the agent server's address and version. Upgrade GitLab, or "+
				"write the agent server's address (for the Linux package, wss://<GitLab host>/-/kubernetes-agent/) "+
				"where it is needed instead of reading it from GitLab.", e.GitLabMessage, version.Version, metadataSince)
		default:
			e.Summary = metadataUnavailableSummary + ": GitLab has no GET /metadata"
			e.Detail = fmt.Sprintf("GitLab answered 404 %q to GET /metadata, as GitLab before %s does (it has no such "+
				"endpoint). Check the API URL: it must point at a GitLab instance (for example "+
				"https://gitlab.example.com/api/v4); if it does, this GitLab is too old to tell the agent "+
				"server's address: upgrade it to %s or later.", e.GitLabMessage, metadataSince, metadataSince)
			e.Check = []Setting{SettingURL}
		}
	case e.Status == http.StatusForbidden && strings.Contains(e.GitLabMessage, "insufficient_scope"):
		e.Summary = metadataUnavailableSummary + ": the token's scopes do not allow it"
		e.Detail = fmt.Sprintf("GitLab answered 403 insufficient_scope to GET /metadata. GET /metadata accepts "+
			"tokens with the `api`, `read_api`, `read_user` or `ai_features` scope; this token has none of them "+
			"(a token with only `read_repository` or `k8s_proxy` is refused). GitLab said: %q. Use a token with "+
			"the `api` scope, which the client needs anyway.", e.GitLabMessage)
		e.Check = []Setting{SettingToken}
	}
	return e
}
