package provider_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

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

// reachableAgent registers an agent "cluster" of root/test that the project's developers may reach the
// cluster through, connected.
func reachableAgent(t *testing.T, env *acctest.Env) int64 {
	t.Helper()
	a, err := env.Mock.CreateAgent(acctest.ProjectID, "cluster", acctest.MaintainerUserID)
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
	agentID := reachableAgent(t, env)
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
	agentID := reachableAgent(t, env)
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
			agentID := reachableAgent(t, env)
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
	agentID := reachableAgent(t, env)
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

// Tokens Terraform opened and did not close are revoked when the provider stops; closed ones are not
// revoked twice.
func TestKubernetesAccess_shutdownRevokesUnclosed(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	agentID := reachableAgent(t, env)
	p := provider.New("test")()
	proto := env.ProtocolOn(t, provider.NewServer(p)(), acctest.MaintainerToken)
	_, closed, diags := proto.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
	failOnDiagnostics(t, "open", diags)
	unclosed, _, diags := proto.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
	failOnDiagnostics(t, "open", diags)
	failOnDiagnostics(t, "close", proto.CloseEphemeral(acctest.KubernetesAccessType, closed))
	if got := proxyStatus(t, stringAttr(t, unclosed, "host"), stringAttr(t, unclosed, "token")); got != http.StatusOK {
		t.Fatalf("the token not closed answers %d before the provider stops, want 200", got)
	}
	env.Mock.ResetRequests()
	if n := provider.Shutdown(context.Background(), p); n != 1 {
		t.Fatalf("Shutdown revoked %d tokens, want 1", n)
	}
	if n := env.Mock.CountRequests(http.MethodDelete, "/api/v4/personal_access_tokens/self"); n != 1 {
		t.Errorf("%d revocations at shutdown, want 1 (the closed token is not revoked again)", n)
	}
	if got := proxyStatus(t, stringAttr(t, unclosed, "host"), stringAttr(t, unclosed, "token")); got != http.StatusUnauthorized {
		t.Fatalf("the token not closed answers %d once the provider stopped, want 401", got)
	}
	if n := provider.Shutdown(context.Background(), p); n != 0 {
		t.Errorf("a second Shutdown revoked %d tokens", n)
	}
}

// failOnDiagnostics fails the test on any diagnostic.
func failOnDiagnostics(t *testing.T, what string, diags []*tfprotov6.Diagnostic) {
	t.Helper()
	if len(diags) > 0 {
		t.Fatalf("%s: %s%s", what, acctest.Errors(diags), acctest.Warnings(diags))
	}
}

// The provider's user may reach the cluster without seeing the agent's project: a warning, and the
// token is created all the same.
func TestKubernetesAccess_agentNotVisible(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	agentID := reachableAgent(t, env)
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

// kubernetesAccessHCL opens the ephemeral resource and configures the probe provider, which stands in
// for the kubernetes and helm providers, with it; the probe's data source lists the cluster's
// namespaces through the proxy.
func kubernetesAccessHCL(agentID int64) string {
	return fmt.Sprintf(`
ephemeral "gitlabagent_cluster_agent_kubernetes_access" "cluster" {
  project  = %q
  agent_id = %d
}

provider "k8sprobe" {
  host       = ephemeral.gitlabagent_cluster_agent_kubernetes_access.cluster.host
  token      = ephemeral.gitlabagent_cluster_agent_kubernetes_access.cluster.token
  expires_at = ephemeral.gitlabagent_cluster_agent_kubernetes_access.cluster.expires_at
}

data "k8sprobe_namespaces" "cluster" {}
`, acctest.ProjectPath, agentID)
}

// secretsOf are every token GitLab created for the Kubernetes proxy, as GitLab and as the proxy's
// bearer token know them.
func secretsOf(env *acctest.Env, agentID int64) []string {
	var out []string
	for _, pat := range env.Mock.PersonalAccessTokens() {
		out = append(out, pat.Token, fmt.Sprintf("pat:%d:%s", agentID, pat.Token))
	}
	return out
}

// secretsAbsent fails if any token created for the proxy, or a recognisable part of one, is in text.
func secretsAbsent(env *acctest.Env, agentID int64, what, text string) error {
	pats := env.Mock.PersonalAccessTokens()
	if len(pats) == 0 {
		return fmt.Errorf("GitLab created no token for the proxy: looking for one in %s proves nothing", what)
	}
	for _, pat := range pats {
		if strings.Contains(text, pat.Token[len("glpat-"):]) {
			return fmt.Errorf("token %d is in %s", pat.ID, what)
		}
	}
	for _, s := range secretsOf(env, agentID) {
		if strings.Contains(text, s) {
			return fmt.Errorf("a token is in %s", what)
		}
	}
	return nil
}

// noSecretInPlan checks the plan, as `terraform show -json` renders it, for the tokens.
type noSecretInPlan struct {
	env     *acctest.Env
	agentID int64
}

func (c noSecretInPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	b, err := json.Marshal(req.Plan)
	if err != nil {
		resp.Error = err
		return
	}
	resp.Error = secretsAbsent(c.env, c.agentID, "the plan", string(b))
}

// noSecretInState checks the state, as `terraform show -json` renders it, for the tokens.
type noSecretInState struct {
	env     *acctest.Env
	agentID int64
}

func (c noSecretInState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	resp.Error = secretsAbsent(c.env, c.agentID, "the state", string(b))
}

// checkAccessRevoked checks that every token the probe was given reached the cluster (the probe's
// namespaces are in state) and no longer does: each was revoked once Terraform was done with it.
func checkAccessRevoked(env *acctest.Env, probe *acctest.KubernetesProbe, agentID int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		creds := probe.Credentials()
		pats := env.Mock.PersonalAccessTokens()
		// Terraform opens the ephemeral resource once per command that needs the probe; OpenTofu also
		// in commands that do not configure it.
		if len(creds) == 0 || len(pats) < len(creds) {
			return fmt.Errorf("the probe was configured %d times, GitLab created %d tokens: want a token for each, at least one", len(creds), len(pats))
		}
		given := map[string]bool{}
		for _, pat := range pats {
			if pat.State != "revoked" {
				return fmt.Errorf("token %d is %s after the run, want revoked", pat.ID, pat.State)
			}
			given[fmt.Sprintf("pat:%d:%s", agentID, pat.Token)] = true
		}
		for i, c := range creds {
			if !given[c.Token] {
				return fmt.Errorf("the probe's token of run %d is not one GitLab created for the agent", i+1)
			}
			if c.Host != env.ProxyURL() {
				return fmt.Errorf("the probe's host was %q, want %q", c.Host, env.ProxyURL())
			}
			if _, err := time.Parse(time.RFC3339, c.ExpiresAt); err != nil {
				return fmt.Errorf("expires_at %q: %w", c.ExpiresAt, err)
			}
			status, _, err := acctest.ProxyGet(context.Background(), c.Host, c.Token, "/api/v1/namespaces")
			if err != nil {
				return err
			}
			if status != http.StatusUnauthorized {
				return fmt.Errorf("the token of run %d answered %d after the run, want 401", i+1, status)
			}
		}
		return nil
	}
}

// TestAccKubernetesAccess_configuresAProvider uses the credentials in another provider's
// configuration, as the kubernetes and helm providers take them: the provider lists the cluster's
// namespaces through the proxy (its data source fails otherwise), and once the run is over the same
// credentials are refused. No token is ever in the plan or the state.
func TestAccKubernetesAccess_configuresAProvider(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	agentID := reachableAgent(t, env)
	probe := acctest.NewKubernetesProbe()
	factories := acctest.ProviderFactories()
	factories["k8sprobe"] = probe.Factory()
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: env.Config(kubernetesAccessHCL(agentID)),
			// Empty after apply, unless the binary lists the ephemeral resource as a change.
			ExpectNonEmptyPlan: acctest.PlansListEphemeralResources(),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{noSecretInPlan{env, agentID}},
				PostApplyPostRefresh: []plancheck.PlanCheck{noSecretInPlan{env, agentID}},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.k8sprobe_namespaces.cluster", tfjsonpath.New("names"),
					knownvalue.ListPartial(map[int]knownvalue.Check{1: knownvalue.StringExact("gitlab-agent-cluster")})),
				noSecretInState{env, agentID},
			},
			Check: checkAccessRevoked(env, probe, agentID),
		}},
	})
}

// TestAccKubernetesAccess_refusedWithoutUserAccess shows what a user not listed under user_access
// sees: the proxy refuses. Terraform then skips closing the ephemeral resource (a consumer failed), so
// the token outlives the run until the provider is stopped, which revokes it (Shutdown, as main does);
// until then it is a k8s_proxy token that expires at the end of the day.
func TestAccKubernetesAccess_refusedWithoutUserAccess(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	agentID := reachableAgent(t, env)
	probe := acctest.NewKubernetesProbe()
	p := provider.New("test")()
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"gitlabagent": func() (tfprotov6.ProviderServer, error) { return provider.NewServer(p)(), nil },
		"k8sprobe":    probe.Factory(),
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config:      env.ProviderBlock(acctest.OutsiderToken) + kubernetesAccessHCL(agentID),
			ExpectError: acctest.ErrorRegexp("the cluster answered 401", "GitLab Agent Server: Unauthorized"),
		}},
	})
	pats := env.Mock.PersonalAccessTokens()
	if len(pats) != 1 {
		t.Fatalf("%d tokens after the failed plan, want 1", len(pats))
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	if pats[0].ExpiresAt > tomorrow || len(pats[0].Scopes) != 1 || pats[0].Scopes[0] != "k8s_proxy" {
		t.Errorf("the token outliving the failed run expires on %s with scopes %v, want k8s_proxy only, by %s", pats[0].ExpiresAt, pats[0].Scopes, tomorrow)
	}
	wantRevoked := 0
	if pats[0].State == "active" {
		wantRevoked = 1
	}
	if n := provider.Shutdown(context.Background(), p); n != wantRevoked {
		t.Errorf("Shutdown revoked %d tokens; the token was %s", n, pats[0].State)
	}
	if state := env.Mock.PersonalAccessTokens()[0].State; state != "revoked" {
		t.Fatalf("the token is %s once the provider stopped, want revoked", state)
	}
}

// TestAccKubernetesAccess_secretNeverLogged runs with Terraform and the providers logging at TRACE,
// then searches the log for the tokens. It sets environment variables, so it must not run in parallel.
func TestAccKubernetesAccess_secretNeverLogged(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	env := acctest.New(t)
	agentID := reachableAgent(t, env)
	probe := acctest.NewKubernetesProbe()
	factories := acctest.ProviderFactories()
	factories["k8sprobe"] = probe.Factory()
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config:             env.Config(kubernetesAccessHCL(agentID)),
			ExpectNonEmptyPlan: acctest.PlansListEphemeralResources(),
			Check:              checkAccessRevoked(env, probe, agentID),
		}},
	})
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("no TRACE log written: %v", err)
	}
	log := string(data)
	for _, want := range []string{"/user/personal_access_tokens", "[REDACTED]", "OpenEphemeralResource", "CloseEphemeralResource"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the TRACE log (%d bytes) lacks %q: the test would prove nothing", len(log), want)
		}
	}
	if err := secretsAbsent(env, agentID, "the TRACE log", log); err != nil {
		t.Error(err)
	}
}

// TestAccKubernetesAccess_cliNeverShowsToken runs the terraform CLI as a user does, with a saved plan,
// and looks for the tokens in everything it prints, in the plan file and in the state file.
func TestAccKubernetesAccess_cliNeverShowsToken(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	agentID := reachableAgent(t, env)
	probe := acctest.NewKubernetesProbe()
	terraformPath := os.Getenv("TF_ACC_TERRAFORM_PATH")
	reattach := acctest.ServeInProcessWith(t, map[string]func() (tfprotov6.ProviderServer, error){"k8sprobe": probe.Factory()})

	dir := t.TempDir()
	config := `
terraform {
  required_providers {
    gitlabagent = {
      source = "` + acctest.ProviderHost() + `/gitlabagent/gitlabagent"
    }
    k8sprobe = {
      source = "` + acctest.ProviderHost() + `/gitlabagent/k8sprobe"
    }
  }
}
` + env.Config(kubernetesAccessHCL(agentID)) + `
output "namespaces" {
  value = data.k8sprobe_namespaces.cluster.names
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(terraformPath, append(args, "-no-color")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+reattach, "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		printed.Write(out)
		if err != nil {
			// Do not print the output: were the test to fail, it might be why.
			t.Fatalf("terraform %s failed: %v", strings.Join(args, " "), err)
		}
	}
	run("init", "-input=false")
	run("plan", "-input=false", "-out=tfplan")
	run("show", "tfplan")
	run("show", "-json", "tfplan")
	planFile := unzipped(t, filepath.Join(dir, "tfplan"))
	run("apply", "-input=false", "tfplan")
	run("show")
	run("show", "-json")
	run("output")
	stateFile, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	run("destroy", "-auto-approve", "-input=false")

	out := printed.String()
	for _, want := range []string{"gitlab-agent-cluster", "Apply complete!", "Destroy complete!"} {
		if !strings.Contains(out, want) {
			t.Fatalf("terraform's output lacks %q: the commands did not run as this test expects", want)
		}
	}
	for what, text := range map[string]string{"terraform's output": out, "the plan file": planFile, "the state file": string(stateFile)} {
		if err := secretsAbsent(env, agentID, what, text); err != nil {
			t.Error(err)
		}
	}
	if err := checkAccessRevoked(env, probe, agentID)(nil); err != nil {
		t.Error(err)
	}
}

// unzipped is every file of a zip archive (a saved plan), concatenated.
func unzipped(t *testing.T, name string) string {
	t.Helper()
	r, err := zip.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var all strings.Builder
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	if all.Len() == 0 {
		t.Fatal("the plan file is empty")
	}
	return all.String()
}

// TestAccKubernetesAccess_invalidInput is refused at plan time, naming the attribute, before any
// request.
func TestAccKubernetesAccess_invalidInput(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	factories := acctest.ProviderFactories()
	factories["k8sprobe"] = acctest.NewKubernetesProbe().Factory()
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config:      env.Config(kubernetesAccessHCL(0)),
				ExpectError: acctest.ErrorRegexp("agent_id", "at least 1"),
			},
			{
				Config:      env.Config(strings.Replace(kubernetesAccessHCL(1), `"root/test"`, `"root/test/"`, 1)),
				ExpectError: acctest.ErrorRegexp("Invalid project", `"root/test/" is not a project path`),
			},
		},
	})
	if n := len(env.Mock.Requests()); n != 0 {
		t.Errorf("invalid input sent %d requests to GitLab: %v", n, env.Mock.Requests())
	}
}
