package gitlab

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

func TestKubernetesProxyToken_createAndRevoke(t *testing.T) {
	mock, client, _ := mockPlaying(t, mockgitlab.SeedSettings{}, testMaintainerToken)
	ctx := context.Background()
	tomorrow := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)

	tok, err := client.CreateKubernetesProxyToken(ctx, "terraform", "for a test", tomorrow)
	if err != nil {
		t.Fatal(err)
	}
	pats := mock.PersonalAccessTokens()
	if len(pats) != 1 || pats[0].ID != tok.ID || pats[0].Token != tok.Token || pats[0].UserID != testUserID ||
		len(pats[0].Scopes) != 1 || pats[0].Scopes[0] != K8sProxyScope || pats[0].State != "active" {
		t.Fatalf("GitLab has %+v, the client got id %d", pats, tok.ID)
	}
	if !tok.ExpiresAt.Equal(tomorrow) || pats[0].ExpiresAt != tomorrow.Format(time.DateOnly) {
		t.Fatalf("expires at %v (GitLab: %s), want %v", tok.ExpiresAt, pats[0].ExpiresAt, tomorrow)
	}

	if err := client.RevokeTokenSelf(ctx, tok.Token, tok.ID); err != nil {
		t.Fatal(err)
	}
	if state := mock.PersonalAccessTokens()[0].State; state != "revoked" {
		t.Fatalf("state after revoke %q", state)
	}
	// The provider's own token was not the one revoked.
	if err := client.CheckAuth(ctx); err != nil {
		t.Fatalf("the provider's token stopped working: %v", err)
	}
	// Revoking again is done already.
	if err := client.RevokeTokenSelf(ctx, tok.Token, tok.ID); err != nil {
		t.Fatalf("revoking a revoked token: %v", err)
	}
	if n := mock.CountRequests(http.MethodPost, "/api/v4/user/personal_access_tokens"); n != 1 {
		t.Fatalf("%d creates, want 1", n)
	}
}

func TestKubernetesProxyToken_revokeUnknownToken(t *testing.T) {
	_, client, _ := mockPlaying(t, mockgitlab.SeedSettings{}, testMaintainerToken)
	err := client.RevokeTokenSelf(context.Background(), "glpat-not-a-token", 42)
	e := asError(t, err)
	assertContains(t, "detail", e.Detail, "personal access token 42", "401")
	assertNotContains(t, "detail", e.Error(), "glpat-not-a-token", "GITLAB_TOKEN")
}

func TestKubernetesProxyToken_createErrors(t *testing.T) {
	ctx := context.Background()
	tomorrow := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	cases := []struct {
		name     string
		settings mockgitlab.SeedSettings
		token    string
		summary  string
		detail   []string
	}{
		{"a read_api token", mockgitlab.SeedSettings{}, mockgitlab.DefaultReadAPIToken,
			"The provider's token may not create personal access tokens", []string{"`api` scope", "403 insufficient_scope"}},
		{"not permitted", mockgitlab.SeedSettings{PersonalAccessTokensRestricted: true}, testMaintainerToken,
			"GitLab does not let the provider's user create personal access tokens", []string{"Not permitted to create", "bot user", "`user_access`"}},
		{"GitLab 16.4", mockgitlab.SeedSettings{GitLabVersion: "16.4.2"}, testMaintainerToken,
			"GitLab cannot create tokens for the Kubernetes proxy", []string{"GitLab 16.4.2-ee has no POST /user/personal_access_tokens", "16.5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mock, client, _ := mockPlaying(t, tc.settings, tc.token)
			_, err := client.CreateKubernetesProxyToken(ctx, "terraform", "", tomorrow)
			e := asError(t, err)
			if e.Summary != tc.summary {
				t.Fatalf("summary %q, want %q", e.Summary, tc.summary)
			}
			assertContains(t, "detail", e.Detail, tc.detail...)
			if len(mock.PersonalAccessTokens()) != 0 {
				t.Fatal("a token was created")
			}
		})
	}
	t.Run("an answer lost after the create", func(t *testing.T) {
		mock, client, _ := mockPlaying(t, mockgitlab.SeedSettings{}, testMaintainerToken)
		mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/v4/user/personal_access_tokens", Status: 502, Count: 1, AfterCommit: true})
		_, err := client.CreateKubernetesProxyToken(ctx, "terraform k8s", "", tomorrow)
		e := asError(t, err)
		if !e.OutcomeUnknown {
			t.Fatal("OutcomeUnknown not set")
		}
		assertContains(t, "detail", e.Detail, `"terraform k8s"`, tomorrow.Format(time.DateOnly))
		if n := mock.CountRequests(http.MethodPost, "/api/v4/user/personal_access_tokens"); n != 1 {
			t.Fatalf("the create was sent %d times, want once", n)
		}
	})
}

func TestKubernetesProxyURL(t *testing.T) {
	ctx := context.Background()
	_, client, _ := mockPlaying(t, mockgitlab.SeedSettings{KASExternalURL: "wss://kas.example.com"}, testMaintainerToken)
	if u, err := client.KubernetesProxyURL(ctx); err != nil || u != "https://kas.example.com/k8s-proxy" {
		t.Fatalf("proxy URL %q, %v", u, err)
	}
	_, client, _ = mockPlaying(t, mockgitlab.SeedSettings{KASDisabled: true}, testMaintainerToken)
	_, err := client.KubernetesProxyURL(ctx)
	e := asError(t, err)
	if e.Summary != "GitLab's agent server (KAS) is disabled" || !strings.Contains(e.Detail, "gitlab_kas['enable']") {
		t.Fatalf("%s: %s", e.Summary, e.Detail)
	}
}
