package gitlab

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

func TestMetadata_readOnceAndShared(t *testing.T) {
	mock, client, _ := mockPlaying(t, mockgitlab.SeedSettings{GitLabVersion: "17.6.2", KASExternalURL: "wss://kas.example.com"}, testMaintainerToken)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			m, err := client.Metadata(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			if m.Version != "17.6.2-ee" || m.Revision == "" || m.Enterprise == nil || !*m.Enterprise || !m.KAS.Enabled ||
				*m.KAS.ExternalURL != "wss://kas.example.com" || *m.KAS.ExternalK8sProxyURL != "https://kas.example.com/k8s-proxy" ||
				m.KAS.K8sProxyURLDerived || *m.KAS.Version != "17.6.2" {
				t.Errorf("metadata = %+v, kas %+v", m, m.KAS)
			}
		})
	}
	wg.Wait()
	// The receptive-agent errors read the same answer.
	_ = client.instanceFacts(ctx)
	if n := mock.CountRequests(http.MethodGet, "/api/v4/metadata"); n != 1 {
		t.Fatalf("GET /metadata sent %d times, want 1", n)
	}
	// Another client (another provider instance) reads its own.
	other, err := New(Config{BaseURL: client.BaseURL(), Token: testMaintainerToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Metadata(ctx); err != nil {
		t.Fatal(err)
	}
	if n := mock.CountRequests(http.MethodGet, "/api/v4/metadata"); n != 2 {
		t.Fatalf("GET /metadata sent %d times, want 2", n)
	}
}

func TestMetadata_nullsAndVersions(t *testing.T) {
	ctx := context.Background()
	// KAS disabled: enabled false, every other field null.
	_, client, _ := mockPlaying(t, mockgitlab.SeedSettings{KASDisabled: true}, testMaintainerToken)
	m, err := client.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.KAS.Enabled || m.KAS.ExternalURL != nil || m.KAS.ExternalK8sProxyURL != nil || m.KAS.Version != nil || m.KAS.K8sProxyURLDerived {
		t.Fatalf("KAS disabled: %+v", m.KAS)
	}

	// KAS unreachable: its version is null.
	mock, client, _ := mockPlaying(t, mockgitlab.SeedSettings{}, testMaintainerToken)
	mock.SetKASReachable(false)
	if m, err = client.Metadata(ctx); err != nil || !m.KAS.Enabled || m.KAS.Version != nil || m.KAS.ExternalURL == nil {
		t.Fatalf("KAS unreachable: %+v, %v", m.KAS, err)
	}

	// Before 17.6 the proxy URL is derived; before 15.6 the edition is not told.
	_, client, _ = mockPlaying(t, mockgitlab.SeedSettings{GitLabVersion: "15.5.0", KASExternalURL: "grpc://gitlab.example.com:8150"}, testMaintainerToken)
	if m, err = client.Metadata(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Enterprise != nil || !m.KAS.K8sProxyURLDerived || *m.KAS.ExternalK8sProxyURL != "http://gitlab.example.com:8150/k8s-proxy" {
		t.Fatalf("15.5: %+v, kas %+v", m, m.KAS)
	}
}

func TestMetadata_unavailable(t *testing.T) {
	ctx := context.Background()
	mock, client, _ := mockPlaying(t, mockgitlab.SeedSettings{GitLabVersion: "15.1.3"}, testMaintainerToken)
	_, err := client.Metadata(ctx)
	e := asError(t, err)
	if !IsMetadataUnavailable(err) || e.Summary != "GitLab's metadata cannot be read: GitLab 15.1.3-ee is older than 15.2" {
		t.Fatalf("summary %q", e.Summary)
	}
	assertContains(t, "old GitLab", e.Detail, "predates GitLab 15.2", "Upgrade GitLab")
	// A failed read is not kept.
	if err := mock.SetSettings(mockgitlab.SeedSettings{GitLabVersion: "16.0.0"}); err != nil {
		t.Fatal(err)
	}
	if m, err := client.Metadata(ctx); err != nil || m.Version != "16.0.0-ee" {
		t.Fatalf("after the upgrade: %+v, %v", m, err)
	}

	// No /metadata and no /version: not GitLab, or a very old one.
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"error":"404 Not Found"}`)
	}))
	_, err = newTestClient(t, srv.URL, 0).Metadata(ctx)
	if e = asError(t, err); !IsMetadataUnavailable(err) || !strings.Contains(described(e), "Check the API URL") || !strings.Contains(described(e), "[check url]") {
		t.Fatalf("no /metadata: %s: %s", e.Summary, e.Detail)
	}

	// A token scope /metadata refuses.
	if err := mock.AddUser(mockgitlab.SeedUser{ID: 60, Username: "k8s", AccessTokens: []mockgitlab.SeedAccessToken{
		{Token: "glpat-k8s-proxy-only-0000", Scopes: []string{"k8s_proxy"}},
	}}); err != nil {
		t.Fatal(err)
	}
	scoped, err := New(Config{BaseURL: client.BaseURL(), Token: "glpat-k8s-proxy-only-0000"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = scoped.Metadata(ctx)
	e = asError(t, err)
	if !IsMetadataUnavailable(err) || e.Status != http.StatusForbidden {
		t.Fatalf("k8s_proxy token: %s", e.Summary)
	}
	assertContains(t, "scope", e.Detail, "`api`, `read_api`, `read_user` or `ai_features`", "k8s_proxy")
	if strings.Contains(e.Detail, "glpat-k8s-proxy-only-0000") {
		t.Fatal("the error quotes the token")
	}
}

func TestDeriveK8sProxyURL(t *testing.T) {
	for in, want := range map[string]string{
		"wss://kas.gitlab.com":                         "https://kas.gitlab.com/k8s-proxy",
		"wss://gitlab.example.com/-/kubernetes-agent/": "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy",
		"grpc://gitlab.example.com:8150":               "http://gitlab.example.com:8150/k8s-proxy",
		"grpcs://gitlab.example.com:8150":              "https://gitlab.example.com:8150/k8s-proxy",
		"ws://127.0.0.1:8080/-/kubernetes-agent/":      "http://127.0.0.1:8080/-/kubernetes-agent/k8s-proxy",
		"not a url": "",
	} {
		if got := DeriveK8sProxyURL(in); got != want {
			t.Errorf("DeriveK8sProxyURL(%q) = %q, want %q", in, got, want)
		}
	}
}
