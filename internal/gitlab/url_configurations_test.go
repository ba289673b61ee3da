package gitlab

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const (
	urlTestDeveloperToken = "glpat-mock-developer-0000000"
	urlConfigsPattern     = "/api/v4/projects/*/cluster_agents/*/url_configurations"
	urlConfigPattern      = "/api/v4/projects/*/cluster_agents/*/url_configurations/*"
)

// mtlsOptions returns create options for mTLS with a fresh client certificate.
func mtlsOptions(t *testing.T) *CreateURLConfigurationOptions {
	t.Helper()
	ca := newCA(t, "receptive-agents-ca")
	leaf := newLeaf(t, ca, "gitlab-kas", x509.ExtKeyUsageClientAuth)
	return &CreateURLConfigurationOptions{
		URL:        "grpcs://agent.example.com:4242",
		ClientCert: gl.Ptr(leaf.certPEM),
		ClientKey:  gl.Ptr(leaf.keyPEM),
		CACert:     gl.Ptr(ca.certPEM),
		TLSHost:    gl.Ptr("agent.internal"),
	}
}

// assertNoKey fails if the error or its parts carry the client key.
func assertNoKey(t *testing.T, err error, key string) {
	t.Helper()
	if err == nil {
		return
	}
	body := key
	if lines := strings.Split(key, "\n"); len(lines) > 2 {
		body = lines[1]
	}
	if strings.Contains(err.Error(), body) || strings.Contains(fmt.Sprintf("%+v", err), body) {
		t.Error("the error carries the client key")
	}
}

func TestURLConfiguration_jwtLifecycle(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "receptive")
	ctx := context.Background()

	created, err := client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpcs://agent.example.com:4242"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	info, ok := mock.URLConfiguration(agentID)
	if !ok || info.ID != created.ID || info.PublicKey == nil || created.PublicKey == nil || *info.PublicKey != *created.PublicKey {
		t.Fatalf("created %+v, mock has %+v", created, info)
	}
	raw, err := base64.StdEncoding.DecodeString(*created.PublicKey)
	if err != nil || len(raw) != 32 || len(*created.PublicKey) != 44 {
		t.Errorf("public_key %q is not the Base64 of 32 bytes", *created.PublicKey)
	}
	if created.AuthType() != "jwt" || created.ClientCert != nil || created.CACert != nil || created.TLSHost != nil || created.AgentID != agentID {
		t.Errorf("unexpected configuration: %+v", created)
	}

	got, err := client.GetURLConfiguration(ctx, "20", agentID, created.ID)
	if err != nil || *got.PublicKey != *created.PublicKey || got.URL != created.URL {
		t.Fatalf("get: %+v, %v", got, err)
	}
	list, err := client.ListURLConfigurations(ctx, testProject, agentID)
	if err != nil || len(list) != 1 || list[0].ID != created.ID {
		t.Fatalf("list: %+v, %v", list, err)
	}

	if err := client.DeleteURLConfiguration(ctx, testProject, agentID, created.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, ok := mock.URLConfiguration(agentID); ok {
		t.Fatal("the configuration still exists after delete")
	}
	// Deleting again is done already; so is deleting under a deleted agent.
	if err := client.DeleteURLConfiguration(ctx, testProject, agentID, created.ID); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if err := mock.DeleteAgent(agentID); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteURLConfiguration(ctx, testProject, agentID, created.ID); err != nil {
		t.Errorf("delete under a deleted agent: %v", err)
	}
}

func TestURLConfiguration_mtlsKeyReachesGitLabButNoLogOrError(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "receptive")
	opt := mtlsOptions(t)
	key := *opt.ClientKey
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)

	created, err := client.CreateURLConfiguration(ctx, testProject, agentID, opt)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.AuthType() != "mtls" || created.PublicKey != nil || created.ClientCert == nil || *created.ClientCert != *opt.ClientCert {
		t.Errorf("unexpected mTLS configuration: %+v", created)
	}
	info, _ := mock.URLConfiguration(agentID)
	if info.ClientKey == nil || *info.ClientKey != key {
		t.Error("the mock did not receive the client key that was sent")
	}
	// A second create fails; its error names the existing configuration, never the key.
	_, err = client.CreateURLConfiguration(ctx, testProject, agentID, opt)
	assertNoKey(t, err, key)
	if _, err := client.ListURLConfigurations(ctx, testProject, agentID); err != nil {
		t.Fatal(err)
	}

	body := strings.Split(key, "\n")[1]
	if strings.Contains(buf.String(), body) {
		t.Error("the log carries the client key")
	}
	if !strings.Contains(buf.String(), "url_configurations") {
		t.Errorf("the requests were not logged:\n%s", buf.String())
	}
	for _, s := range []string{fmt.Sprintf("%v", opt), fmt.Sprintf("%+v", *opt), fmt.Sprintf("%#v", opt), opt.String()} {
		if strings.Contains(s, body) {
			t.Errorf("printing the options shows the client key")
		}
		if !strings.Contains(s, redacted) {
			t.Errorf("printing the options does not say a key is set: %s", s)
		}
	}
}

func TestURLConfiguration_receptiveAgentsOff(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "receptive")
	ctx := context.Background()
	created, err := client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpc://agent:4242"})
	if err != nil {
		t.Fatal(err)
	}
	mock.SetReceptiveAgents(false)

	check := func(what string, err error) {
		t.Helper()
		e := asError(t, err)
		if IsNotFound(err) {
			t.Errorf("%s: IsNotFound is true: a switched-off API must not look like a deleted configuration", what)
		}
		if e.Status != http.StatusNotFound || Message(err) != "404 Not Found" {
			t.Errorf("%s: status %d, message %q", what, e.Status, Message(err))
		}
		assertContains(t, what, e.Summary+"\n"+e.Detail, "Receptive agents are not available", "GitLab Ultimate",
			"17.4", "receptive_cluster_agents_enabled", "Admin > Settings > General > GitLab agent for Kubernetes",
			"application settings API")
	}
	_, err = client.ListURLConfigurations(ctx, testProject, agentID)
	check("list", err)
	_, err = client.GetURLConfiguration(ctx, testProject, agentID, created.ID)
	check("get", err)
	_, err = client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpc://agent:4242"})
	check("create", err)
	err = client.DeleteURLConfiguration(ctx, testProject, agentID, created.ID)
	check("delete", err)
	assertContains(t, "delete error", asError(t, err).Detail, "delete URL configuration", "may still exist in GitLab")
	if _, ok := mock.URLConfiguration(agentID); !ok {
		t.Error("the configuration disappeared")
	}
}

func TestURLConfiguration_routeMissingIsUnavailable(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"error":"404 Not Found"}`)
	}))
	client := newTestClient(t, srv.URL, 0)
	_, err := client.ListURLConfigurations(context.Background(), testProject, 5)
	e := asError(t, err)
	assertContains(t, "error", e.Summary+e.Detail, "Receptive agents are not available", "receptive_cluster_agents_enabled")
	err = client.DeleteURLConfiguration(context.Background(), testProject, 5, 1)
	assertContains(t, "delete error", asError(t, err).Summary, "Receptive agents are not available")
}

func TestURLConfiguration_getMissingIsNotFound(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "receptive")
	ctx := context.Background()
	first, err := client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpc://agent:4242"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mock.DeleteURLConfiguration(agentID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetURLConfiguration(ctx, testProject, agentID, first.ID)
	if !IsNotFound(err) {
		t.Fatalf("get of a deleted configuration: %v, want IsNotFound", err)
	}
	assertContains(t, "error", asError(t, err).Detail, "has no URL configuration at all")

	second, err := client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpc://agent:4243"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GetURLConfiguration(ctx, testProject, agentID, first.ID)
	if !IsNotFound(err) {
		t.Fatalf("get of a replaced configuration: %v, want IsNotFound", err)
	}
	assertContains(t, "error", asError(t, err).Detail, fmt.Sprintf("its URL configuration is %d", second.ID))

	if err := mock.DeleteAgent(agentID); err != nil {
		t.Fatal(err)
	}
	if _, err = client.GetURLConfiguration(ctx, testProject, agentID, second.ID); !IsNotFound(err) {
		t.Fatalf("get under a deleted agent: %v, want IsNotFound", err)
	}
}

func TestURLConfiguration_alreadyExistsNamesTheExistingOne(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "receptive")
	ctx := context.Background()
	existing, err := client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpcs://old.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	mock.ResetRequests()
	_, err = client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpcs://new.example.com"})
	e := asError(t, err)
	if e.Status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", e.Status)
	}
	assertContains(t, "error", e.Summary+"\n"+described(e), fmt.Sprintf("Agent %d already has a URL configuration", agentID),
		"grpcs://old.example.com", "JWT authentication", fmt.Sprintf("url_configuration_id %d", existing.ID),
		"Nothing was created", "[kind URL configuration exists]")
	if e.Existing == nil || e.Existing.ID != existing.ID || e.Project != testProject || e.AgentID != agentID {
		t.Errorf("existing %v in project %q, agent %d; want configuration %d of agent %d in %q", e.Existing,
			e.Project, e.AgentID, existing.ID, agentID, testProject)
	}
	if n := mock.CountRequests("POST", urlConfigsPattern); n != 1 {
		t.Errorf("%d POSTs, want 1", n)
	}
}

func TestURLConfiguration_developerGets403Explained(t *testing.T) {
	_, client, agentID := mockWithAgent(t, urlTestDeveloperToken, "receptive")
	_, err := client.ListURLConfigurations(context.Background(), testProject, agentID)
	e := asError(t, err)
	if e.Status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", e.Status)
	}
	assertContains(t, "error", e.Detail, "403 Forbidden", "Maintainer role", "reads included")
}

func TestURLConfiguration_lostCreateAnswerIsReconciled(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "receptive")
	ctx := context.Background()
	opt := mtlsOptions(t)
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: urlConfigsPattern, Status: http.StatusBadGateway, AfterCommit: true})
	got, err := client.CreateURLConfiguration(ctx, testProject, agentID, opt)
	if err != nil {
		t.Fatalf("create with a lost answer: %v", err)
	}
	info, _ := mock.URLConfiguration(agentID)
	if got.ID != info.ID || got.AuthType() != "mtls" {
		t.Errorf("reconciled %+v, mock has configuration %d", got, info.ID)
	}
	if n := mock.CountRequests("POST", urlConfigsPattern); n != 1 {
		t.Errorf("the POST was sent %d times, want once", n)
	}

	// Nothing created: the error says so.
	if err := mock.DeleteURLConfiguration(agentID); err != nil {
		t.Fatal(err)
	}
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: urlConfigsPattern, Status: http.StatusBadGateway})
	_, err = client.CreateURLConfiguration(ctx, testProject, agentID, opt)
	assertContains(t, "error", asError(t, err).Detail, "GitLab created none")
	assertNoKey(t, err, *opt.ClientKey)

	// Something else exists: not adopted.
	if _, err := client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpc://other:1"}); err != nil {
		t.Fatal(err)
	}
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: urlConfigsPattern, Status: http.StatusBadGateway})
	_, err = client.CreateURLConfiguration(ctx, testProject, agentID, opt)
	e := asError(t, err)
	assertContains(t, "error", described(e), "differs from the one requested", "[kind URL configuration unknown]")
	if e.Existing == nil || e.Existing.URL != "grpc://other:1" {
		t.Errorf("existing %v, want the configuration the agent has", e.Existing)
	}
	assertNoKey(t, err, *opt.ClientKey)
}
