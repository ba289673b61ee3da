package provider_test

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// The ephemeral resource driven through the plugin protocol, as Terraform 1.10 and later drive it:
// Open, then Close with the private data Open returned.

const patCreatePath = "/api/v4/user/personal_access_tokens"

// accessConfig is the ephemeral resource's configuration for an agent of root/test.
func accessConfig(agentID int64) map[string]tftypes.Value {
	return map[string]tftypes.Value{
		"project":  tftypes.NewValue(tftypes.String, acctest.ProjectPath),
		"agent_id": tftypes.NewValue(tftypes.Number, new(big.Float).SetInt64(agentID)),
	}
}

// stringAttr reads a string attribute of a result ("" when null).
func stringAttr(t *testing.T, v tftypes.Value, name string) string {
	t.Helper()
	var s string
	a := acctest.Attr(v, name)
	if a.IsNull() {
		return ""
	}
	if err := a.As(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// reachableAgent registers an agent of root/test that the project's developers may reach the cluster
// through, connected.
func reachableAgent(t *testing.T, env *acctest.Env, name string) int64 {
	t.Helper()
	a, err := env.Mock.CreateAgent(acctest.ProjectID, name, acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	env.AllowKubernetesAccess(t, a.ID)
	return a.ID
}

// proxyStatus is the status of GET /version through the proxy with the given credentials.
func proxyStatus(t *testing.T, host, token string) int {
	t.Helper()
	status, _, err := acctest.ProxyGet(context.Background(), host, token, "/version")
	if err != nil {
		t.Fatal(err)
	}
	return status
}

func TestKubernetesAccess_openWorksCloseRevokes(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	agentID := reachableAgent(t, env, "cluster")
	p := env.Protocol(t, acctest.DeveloperToken)

	result, private, diags := p.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
	if len(diags) > 0 {
		t.Fatalf("open: %s%s", acctest.Errors(diags), acctest.Warnings(diags))
	}
	host, token, expiresAt := stringAttr(t, result, "host"), stringAttr(t, result, "token"), stringAttr(t, result, "expires_at")
	pats := env.Mock.PersonalAccessTokens()
	if len(pats) != 1 {
		t.Fatalf("GitLab has %d personal access tokens, want 1", len(pats))
	}
	pat := pats[0]
	if host != env.ProxyURL() || host == "" {
		t.Errorf("host %q, want the proxy URL of /metadata %q", host, env.ProxyURL())
	}
	if token != fmt.Sprintf("pat:%d:%s", agentID, pat.Token) {
		t.Error("the token is not pat:<agent ID>:<the personal access token GitLab created>")
	}
	if pat.UserID != 3 || len(pat.Scopes) != 1 || pat.Scopes[0] != "k8s_proxy" {
		t.Errorf("token of user %d with scopes %v, want the developer's (3) with k8s_proxy only", pat.UserID, pat.Scopes)
	}
	// The shortest expiry: the end of today (UTC), or of tomorrow in the last hour of a day.
	now := time.Now().UTC()
	want := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	if want.Sub(now) < time.Hour {
		want = want.AddDate(0, 0, 1)
	}
	if expiresAt != want.Format(time.RFC3339) || pat.ExpiresAt != want.Format(time.DateOnly) {
		t.Errorf("expires_at %q (GitLab: %s), want %s", expiresAt, pat.ExpiresAt, want.Format(time.RFC3339))
	}
	if got := proxyStatus(t, host, token); got != http.StatusOK {
		t.Fatalf("GET /version through the proxy with the credentials: %d, want 200", got)
	}

	if diags := p.CloseEphemeral(acctest.KubernetesAccessType, private); len(diags) > 0 {
		t.Fatalf("close: %s%s", acctest.Errors(diags), acctest.Warnings(diags))
	}
	if state := env.Mock.PersonalAccessTokens()[0].State; state != "revoked" {
		t.Fatalf("token %s after close, want revoked", state)
	}
	if got := proxyStatus(t, host, token); got != http.StatusUnauthorized {
		t.Fatalf("GET /version through the proxy after close: %d, want 401", got)
	}
	// The token revoked itself: the provider's own token is untouched.
	if n := env.Mock.CountRequests(http.MethodDelete, "/api/v4/personal_access_tokens/self"); n != 1 {
		t.Errorf("%d self-revocations, want 1", n)
	}
}

func TestKubernetesAccess_lastHourOfTheDay(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	agentID := reachableAgent(t, env, "cluster")
	lateInTheDay := func() time.Time { return time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC) }
	p := env.ProtocolOn(t, provider.NewServer(provider.NewWithClock("test", lateInTheDay)())(), acctest.MaintainerToken)
	result, private, diags := p.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
	if len(diags) > 0 {
		t.Fatalf("open: %s", acctest.Errors(diags))
	}
	if got := stringAttr(t, result, "expires_at"); got != "2026-05-03T00:00:00Z" {
		t.Errorf("expires_at %q, want the end of the next day, 2026-05-03T00:00:00Z", got)
	}
	if diags := p.CloseEphemeral(acctest.KubernetesAccessType, private); len(diags) > 0 {
		t.Fatalf("close: %s", acctest.Warnings(diags))
	}
}

func TestKubernetesAccess_errors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		token    string
		settings func(*mockgitlab.SeedSettings)
		agentID  int64 // 0: the reachable agent
		want     []string
	}{
		{name: "a token without the api scope", token: mockgitlab.DefaultReadAPIToken,
			want: []string{"The provider's token may not create personal access tokens", "`api` scope"}},
		{name: "personal access tokens not allowed", token: acctest.MaintainerToken,
			settings: func(s *mockgitlab.SeedSettings) { s.PersonalAccessTokensRestricted = true },
			want:     []string{"GitLab does not let the provider's user create personal access tokens", "Not permitted to create"}},
		{name: "KAS disabled", token: acctest.MaintainerToken,
			settings: func(s *mockgitlab.SeedSettings) { s.KASDisabled = true },
			want:     []string{"GitLab's agent server (KAS) is disabled", "gitlab_kas['enable']"}},
		{name: "GitLab 16.4", token: acctest.MaintainerToken,
			settings: func(s *mockgitlab.SeedSettings) { s.GitLabVersion = "16.4.1" },
			want:     []string{"GitLab cannot create tokens for the Kubernetes proxy", "16.5"}},
		{name: "no such agent", token: acctest.MaintainerToken, agentID: 999,
			want: []string{"agent 999", "does not exist"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := acctest.NewMock(t)
			agentID := reachableAgent(t, env, "cluster")
			if tc.agentID != 0 {
				agentID = tc.agentID
			}
			if tc.settings != nil {
				s := env.Mock.Settings()
				tc.settings(&s)
				if err := env.Mock.SetSettings(s); err != nil {
					t.Fatal(err)
				}
			}
			p := env.Protocol(t, tc.token)
			result, private, diags := p.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
			errs := acctest.Errors(diags)
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("errors lack %q:\n%s", w, errs)
				}
			}
			if !acctest.Attr(result, "token").IsNull() || !acctest.Attr(result, "host").IsNull() || len(private) != 0 {
				t.Errorf("a failed open returned a token, a host or private data (%d bytes)", len(private))
			}
			if n := len(env.Mock.PersonalAccessTokens()); n != 0 {
				t.Errorf("%d tokens were created", n)
			}
		})
	}
}

func TestKubernetesAccess_closeWarnsWhenRevokeFails(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	agentID := reachableAgent(t, env, "cluster")
	p := env.Protocol(t, acctest.MaintainerToken)
	result, private, diags := p.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
	if len(diags) > 0 {
		t.Fatalf("open: %s", acctest.Errors(diags))
	}
	pat := env.Mock.PersonalAccessTokens()[0]
	env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodDelete, Pattern: "/api/v4/personal_access_tokens/self", Status: 503, Count: 5})
	diags = p.CloseEphemeral(acctest.KubernetesAccessType, private)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatalf("a failed revoke is an error, want a warning: %s", errs)
	}
	warnings := acctest.Warnings(diags)
	for _, w := range []string{fmt.Sprintf("Personal access token %d was not revoked", pat.ID), "503", "00:00 UTC on " + pat.ExpiresAt,
		"User settings > Access tokens"} {
		if !strings.Contains(warnings, w) {
			t.Errorf("warnings lack %q:\n%s", w, warnings)
		}
	}
	if strings.Contains(warnings, pat.Token) {
		t.Error("the warning shows the token")
	}
	// The token still works: the warning is not a false alarm.
	if got := proxyStatus(t, stringAttr(t, result, "host"), stringAttr(t, result, "token")); got != http.StatusOK {
		t.Errorf("GET /version with the token that was not revoked: %d, want 200", got)
	}

	t.Run("a token revoked already is no warning", func(t *testing.T) {
		env.Mock.ResetRequests()
		if err := env.Mock.RevokePersonalAccessToken(pat.ID); err != nil {
			t.Fatal(err)
		}
		env.Mock.ClearFaults()
		if diags := p.CloseEphemeral(acctest.KubernetesAccessType, private); len(diags) > 0 {
			t.Fatalf("close: %s%s", acctest.Errors(diags), acctest.Warnings(diags))
		}
	})
	t.Run("nothing to close after a failed open", func(t *testing.T) {
		env.Mock.ResetRequests()
		if diags := p.CloseEphemeral(acctest.KubernetesAccessType, nil); len(diags) > 0 {
			t.Fatalf("close: %s%s", acctest.Errors(diags), acctest.Warnings(diags))
		}
		if n := len(env.Mock.Requests()); n != 0 {
			t.Errorf("close without a token sent %d requests", n)
		}
	})
}

// The provider's user may reach the cluster without seeing the agent's project: a warning, and the
// token is created all the same.
func TestKubernetesAccess_agentNotVisible(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	agentID := reachableAgent(t, env, "cluster")
	p := env.Protocol(t, acctest.OutsiderToken)
	_, private, diags := p.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatalf("open: %s", errs)
	}
	if w := acctest.Warnings(diags); !strings.Contains(w, fmt.Sprintf("Agent %d was not checked", agentID)) {
		t.Errorf("warnings: %s", w)
	}
	if n := env.Mock.CountRequests(http.MethodPost, patCreatePath); n != 1 {
		t.Errorf("%d token creates, want 1", n)
	}
	if diags := p.CloseEphemeral(acctest.KubernetesAccessType, private); len(diags) > 0 {
		t.Fatalf("close: %s", acctest.Warnings(diags))
	}
}
