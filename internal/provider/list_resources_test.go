package provider_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// List resources (Terraform 1.14 and later), driven through the protocol as
// `terraform query` drives them, so that CI tests them whatever its
// Terraform version. TestAccListResources runs `terraform query` itself.

func displayNames(results []acctest.ListResult) []string {
	names := make([]string, 0, len(results))
	for _, r := range results {
		names = append(names, r.DisplayName)
	}
	return names
}

func listErrors(results []acctest.ListResult) string {
	for _, r := range results {
		if e := acctest.Errors(r.Diagnostics); e != "" {
			return e
		}
	}
	return ""
}

func TestListResource_clusterAgents(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	ids := map[string]int64{}
	for _, name := range []string{"prod-b", "staging", "prod-a"} {
		a, err := env.Mock.CreateAgent(acctest.ProjectID, name, acctest.MaintainerUserID)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = a.ID
	}
	if _, err := env.Mock.CreateAgent(acctest.NestedProjectID, "prod-elsewhere", acctest.MaintainerUserID); err != nil {
		t.Fatal(err)
	}

	// Every agent of the project, in name order, with identity only.
	all := p.List("gitlabagent_cluster_agent", map[string]tftypes.Value{"project": str(acctest.ProjectPath)}, false, 100)
	if e := listErrors(all); e != "" {
		t.Fatal(e)
	}
	if got, want := fmt.Sprint(displayNames(all)), "[prod-a prod-b staging]"; got != want {
		t.Errorf("agents listed: %s, want %s", got, want)
	}
	for _, r := range all {
		want := map[string]int64{"project_id": acctest.ProjectID, "agent_id": ids[r.DisplayName]}
		if !sameIDs(r.Identity, want) {
			t.Errorf("identity of %s = %v, want %v", r.DisplayName, r.Identity, want)
		}
		if !r.Resource.IsNull() {
			t.Errorf("%s: a resource state was sent although not asked for", r.DisplayName)
		}
	}

	// name_prefix filters; the project may be its numeric ID; the state, when
	// asked for, is what the resource would hold, project as its ID.
	prod := p.List("gitlabagent_cluster_agent", map[string]tftypes.Value{
		"project": str("20"), "name_prefix": str("prod-"),
	}, true, 100)
	if got, want := fmt.Sprint(displayNames(prod)), "[prod-a prod-b]"; got != want {
		t.Errorf("agents named prod-*: %s, want %s", got, want)
	}
	for _, r := range prod {
		a, _ := env.Mock.Agent(ids[r.DisplayName])
		for attr, want := range map[string]tftypes.Value{
			"project":            str("20"),
			"project_id":         number(acctest.ProjectID),
			"agent_id":           number(a.ID),
			"id":                 str(fmt.Sprintf("20:%d", a.ID)),
			"name":               str(a.Name),
			"created_at":         str(acctest.Timestamp(a.CreatedAt)),
			"created_by_user_id": number(acctest.MaintainerUserID),
		} {
			if got := acctest.Attr(r.Resource, attr); !got.Equal(want) {
				t.Errorf("%s: %s = %v, want %v", r.DisplayName, attr, got, want)
			}
		}
	}

	// Terraform's limit is honoured.
	if got := p.List("gitlabagent_cluster_agent", map[string]tftypes.Value{"project": str(acctest.ProjectPath)}, false, 2); len(got) != 2 {
		t.Errorf("with limit 2, %d agents were listed", len(got))
	}
	// A prefix nothing has: no results, no error.
	if got := p.List("gitlabagent_cluster_agent", map[string]tftypes.Value{
		"project": str(acctest.ProjectPath), "name_prefix": str("none-"),
	}, false, 100); len(got) != 0 {
		t.Errorf("name_prefix none- listed %v", displayNames(got))
	}
}

func TestListResource_clusterAgentTokens(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	a, err := env.Mock.CreateAgent(acctest.ProjectID, "alpha", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Mock.CreateAgent(acctest.ProjectID, "beta", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	t1, _ := env.Mock.CreateToken(a.ID, "agentk", "the cluster's", acctest.MaintainerUserID)
	revoked, _ := env.Mock.CreateToken(a.ID, "old", "", acctest.MaintainerUserID)
	if err := env.Mock.RevokeToken(revoked.ID); err != nil {
		t.Fatal(err)
	}
	t2, _ := env.Mock.CreateToken(b.ID, "agentk", "", acctest.MaintainerUserID)

	// One agent's active tokens, with state: no secret, description as GitLab has it.
	one := p.List("gitlabagent_cluster_agent_token", map[string]tftypes.Value{
		"project": str(acctest.ProjectPath), "agent_id": number(a.ID),
	}, true, 100)
	if e := listErrors(one); e != "" {
		t.Fatal(e)
	}
	if len(one) != 1 {
		t.Fatalf("agent alpha: %d tokens listed (%v), want its one active token", len(one), displayNames(one))
	}
	r := one[0]
	if want := fmt.Sprintf("agentk (token %d of agent %d)", t1.ID, a.ID); r.DisplayName != want {
		t.Errorf("display name %q, want %q", r.DisplayName, want)
	}
	if want := map[string]int64{"project_id": acctest.ProjectID, "agent_id": a.ID, "token_id": t1.ID}; !sameIDs(r.Identity, want) {
		t.Errorf("identity %v, want %v", r.Identity, want)
	}
	for attr, want := range map[string]tftypes.Value{
		"project":           str("20"),
		"token_id":          number(t1.ID),
		"description":       str("the cluster's"),
		"status":            str("active"),
		"token":             tftypes.NewValue(tftypes.String, nil),
		"rotation_triggers": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, nil),
	} {
		if got := acctest.Attr(r.Resource, attr); !got.Equal(want) {
			t.Errorf("%s = %v, want %v", attr, got, want)
		}
	}

	// Without agent_id: the active tokens of every agent.
	all := p.List("gitlabagent_cluster_agent_token", map[string]tftypes.Value{"project": str(acctest.ProjectPath)}, false, 100)
	var got []int64
	for _, r := range all {
		got = append(got, r.Identity["token_id"])
	}
	if want := fmt.Sprint([]int64{t1.ID, t2.ID}); fmt.Sprint(got) != want {
		t.Errorf("tokens of the project: %v, want %s", got, want)
	}
}

func TestListResource_clusterAgentURLConfigurations(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	agentID, configID := receptiveAgent(t, env, "receptive")
	if _, err := env.Mock.CreateAgent(acctest.ProjectID, "plain", acctest.MaintainerUserID); err != nil {
		t.Fatal(err)
	}
	env.Mock.ResetRequests()

	results := p.List("gitlabagent_cluster_agent_url_configuration", map[string]tftypes.Value{"project": str(acctest.ProjectPath)}, true, 100)
	if e := listErrors(results); e != "" {
		t.Fatal(e)
	}
	if len(results) != 1 {
		t.Fatalf("%d URL configurations listed (%v), want 1", len(results), displayNames(results))
	}
	r := results[0]
	if want := fmt.Sprintf("grpcs://receptive.example.com:4242 (agent %d)", agentID); r.DisplayName != want {
		t.Errorf("display name %q, want %q", r.DisplayName, want)
	}
	if want := map[string]int64{"project_id": acctest.ProjectID, "agent_id": agentID, "url_configuration_id": configID}; !sameIDs(r.Identity, want) {
		t.Errorf("identity %v, want %v", r.Identity, want)
	}
	for attr, want := range map[string]tftypes.Value{
		"url":       str("grpcs://receptive.example.com:4242"),
		"auth_type": str("jwt"),
		"project":   str("20"),
	} {
		if got := acctest.Attr(r.Resource, attr); !got.Equal(want) {
			t.Errorf("%s = %v, want %v", attr, got, want)
		}
	}
	// Only the receptive agent was asked for its configurations.
	if n := env.Mock.CountRequests("GET", "/api/v4/projects/*/cluster_agents/*/url_configurations"); n != 1 {
		t.Errorf("%d agents were asked for URL configurations, want 1 (the receptive one)", n)
	}
}

func TestListResource_errors(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	results := p.List("gitlabagent_cluster_agent", map[string]tftypes.Value{"project": str("no/such-project")}, false, 100)
	want := regexp.MustCompile(`(?s)no/such-project`)
	if e := listErrors(results); !want.MatchString(e) {
		t.Errorf("listing the agents of a project that does not exist: error %q, want one naming the project", e)
	}
	for _, r := range results {
		if r.Identity != nil {
			t.Errorf("a failed list returned a result: %v", r)
		}
	}
}

// A list stops at its limit: with limit = 1, one agent's tokens or URL
// configurations are read, not every agent's, and no page of agents past
// the one that holds the first match.
func TestListResource_stopsAtTheLimit(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	for i := range 5 {
		agentID, _ := receptiveAgent(t, env, fmt.Sprintf("receptive-%d", i))
		if _, err := env.Mock.CreateToken(agentID, "agentk", "", acctest.MaintainerUserID); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 250 { // listed after the others: GitLab lists agents by name
		if _, err := env.Mock.CreateAgent(acctest.ProjectID, fmt.Sprintf("z-%03d", i), acctest.MaintainerUserID); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ typeName, fetched string }{
		{"gitlabagent_cluster_agent_token", "/api/v4/projects/*/cluster_agents/*/tokens"},
		{"gitlabagent_cluster_agent_url_configuration", "/api/v4/projects/*/cluster_agents/*/url_configurations"},
	} {
		env.Mock.ResetRequests()
		results := p.List(c.typeName, map[string]tftypes.Value{"project": str(acctest.ProjectPath)}, false, 1)
		if e := listErrors(results); e != "" {
			t.Fatal(e)
		}
		if len(results) != 1 {
			t.Errorf("%s with limit 1: %d results", c.typeName, len(results))
		}
		if n := env.Mock.CountRequests("GET", c.fetched); n != 1 {
			t.Errorf("%s with limit 1: %d agents were asked, want 1", c.typeName, n)
		}
	}
	env.Mock.ResetRequests()
	results := p.List("gitlabagent_cluster_agent", map[string]tftypes.Value{"project": str(acctest.ProjectPath)}, false, 1)
	if len(results) != 1 {
		t.Errorf("agents with limit 1: %d results", len(results))
	}
	// 255 agents are three pages of 100; the first holds the result. Pages
	// are asked for several at a time, but not all of them.
	if n := env.Mock.CountRequests("GET", "/api/v4/projects/*/cluster_agents"); n >= 3 {
		t.Errorf("agents with limit 1: %d pages read, want fewer than all 3", n)
	}
}
