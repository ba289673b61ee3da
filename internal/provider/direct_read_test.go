package provider_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// The provider's server answers gitlabagent_cluster_agents itself (see
// directRead); what it answers must be what the plugin framework's own
// server answers through the data source's Read, byte for byte, errors
// included.
func TestDirectReadAnswersAsTheFramework(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   func(t *testing.T, env *acctest.Env)
		token   string
		project string
	}{
		{
			name:    "several pages, a receptive agent, an agent whose creator is gone",
			setup:   func(t *testing.T, env *acctest.Env) { seedVariedAgents(t, env, 230) },
			project: acctest.ProjectPath,
		},
		{
			name:    "project as a numeric ID",
			setup:   func(t *testing.T, env *acctest.Env) { seedVariedAgents(t, env, 3) },
			project: fmt.Sprint(acctest.ProjectID),
		},
		{
			name:    "no agents",
			project: acctest.NestedProjectPath,
		},
		{
			name: "a GitLab without is_receptive",
			setup: func(t *testing.T, env *acctest.Env) {
				seedVariedAgents(t, env, 3)
				if err := env.Mock.SetSettings(mockgitlab.SeedSettings{Edition: mockgitlab.EditionCE}); err != nil {
					t.Fatal(err)
				}
			},
			project: acctest.ProjectPath,
		},
		{
			name:    "a project that does not exist",
			project: "root/missing",
		},
		{
			name:    "a token without access",
			setup:   func(t *testing.T, env *acctest.Env) { seedVariedAgents(t, env, 3) },
			token:   acctest.OutsiderToken,
			project: acctest.ProjectPath,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := acctest.NewMock(t)
			if tc.setup != nil {
				tc.setup(t, env)
			}
			token := tc.token
			if token == "" {
				token = acctest.MaintainerToken
			}
			direct := provider.NewServer(provider.New("test")())()
			viaDirect := env.ProtocolOn(t, direct, token)
			viaFramework := env.ProtocolOn(t, providerserver.NewProtocol6(provider.New("test")())(), token)
			const typeName = "gitlabagent_cluster_agents"
			req := viaDirect.DataSourceRequest(typeName, map[string]tftypes.Value{
				"project": tftypes.NewValue(tftypes.String, tc.project),
			})

			got, ok := provider.DirectRead(direct, req)
			if !ok {
				t.Fatal("the provider's server left the read to the framework")
			}
			want := viaFramework.ReadDataSource(req)

			if g, w := diagnostics(got.Diagnostics), diagnostics(want.Diagnostics); g != w {
				t.Errorf("diagnostics differ\ndirect:    %s\nframework: %s", g, w)
			}
			switch {
			case (got.State == nil) != (want.State == nil):
				t.Fatalf("state: direct %v, framework %v", got.State, want.State)
			case got.State == nil:
				if want.Diagnostics == nil {
					t.Fatal("no state and no error")
				}
			case !bytes.Equal(got.State.MsgPack, want.State.MsgPack):
				g, w := viaDirect.DataSourceValue(typeName, got.State), viaFramework.DataSourceValue(typeName, want.State)
				diffs, _ := g.Diff(w)
				t.Errorf("encoded states differ (%d and %d bytes); values differ at %d places, e.g. %v",
					len(got.State.MsgPack), len(want.State.MsgPack), len(diffs), diffs[:min(3, len(diffs))])
			}
			// Both went through the same GitLab: the direct answer must hold the agents.
			if len(got.Diagnostics) == 0 && len(env.Mock.Agents(acctest.ProjectID)) > 0 && strings.HasPrefix(tc.project, "root/test") {
				var attrs map[string]tftypes.Value
				var agents []tftypes.Value
				if err := viaDirect.DataSourceValue(typeName, got.State).As(&attrs); err != nil {
					t.Fatal(err)
				}
				if err := attrs["cluster_agents"].As(&agents); err != nil {
					t.Fatal(err)
				}
				if len(agents) != len(env.Mock.Agents(acctest.ProjectID)) {
					t.Errorf("direct answer lists %d agents, GitLab has %d", len(agents), len(env.Mock.Agents(acctest.ProjectID)))
				}
			}
		})
	}
}

// The framework answers when the provider cannot talk to GitLab yet, with
// the error every data source gives then.
func TestDirectReadLeavesUnconfiguredProviderToTheFramework(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	server := provider.NewServer(provider.New("test")())()
	p := env.ProtocolOn(t, server, acctest.MaintainerToken)
	req := p.DataSourceRequest("gitlabagent_cluster_agents", map[string]tftypes.Value{
		"project": tftypes.NewValue(tftypes.String, acctest.ProjectPath),
	})
	if _, ok := provider.DirectRead(provider.NewServer(provider.New("test")())(), req); ok {
		t.Error("an unconfigured provider's server answered the read itself")
	}
}

// seedVariedAgents registers n agents in the default project (see
// seedAgents), the first of them with a URL configuration, and one more with
// no creator.
func seedVariedAgents(t *testing.T, env *acctest.Env, n int) {
	t.Helper()
	agents := seedAgents(t, env, acctest.ProjectID, n)
	if _, err := env.Mock.CreateAgent(acctest.ProjectID, "no-creator", 0); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/projects/%d/cluster_agents/%d/url_configurations", env.BaseURL, acctest.ProjectID, agents[0].ID)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"url":"grpc://agent.example.com:8080"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("PRIVATE-TOKEN", acctest.MaintainerToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating a URL configuration: %s", resp.Status)
	}
}

func diagnostics(diags []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "[%s] %q %q %v; ", d.Severity, d.Summary, d.Detail, d.Attribute)
	}
	return b.String()
}
