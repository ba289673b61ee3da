package gitlab

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const testRootToken = "glpat-mock-root-000000000000"

// mockPlaying starts a mock GitLab with the default seed's users and
// projects, playing the GitLab the settings describe, with one agent; it
// returns the mock, a client with apiToken and the agent's ID.
func mockPlaying(t *testing.T, settings mockgitlab.SeedSettings, apiToken string) (*mockgitlab.Server, *Client, int64) {
	t.Helper()
	seed := mockgitlab.DefaultSeed()
	seed.Settings = settings
	mock, err := mockgitlab.New(seed)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	client, err := New(Config{BaseURL: srv.URL, Token: apiToken, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := mock.CreateAgent(testProjectID, "receptive", testUserID)
	if err != nil {
		t.Fatal(err)
	}
	return mock, client, agent.ID
}

func TestReceptiveAgentsUnavailable_saysWhatIsMissing(t *testing.T) {
	ee := func(licence string, on bool) mockgitlab.SeedSettings {
		return mockgitlab.SeedSettings{Edition: "ee", Licence: licence, ReceptiveAgents: on}
	}
	cases := []struct {
		name     string
		settings mockgitlab.SeedSettings
		token    string
		summary  string
		detail   []string
		absent   []string
	}{
		{
			name: "Community Edition", settings: mockgitlab.SeedSettings{Edition: "ce"}, token: testMaintainerToken,
			summary: "the Community Edition has none",
			detail:  []string{`404 "404 Not Found"`, "GitLab Community Edition 19.0.0 is the Community Edition", "Enterprise Edition 17.4", "[kind receptive agents unavailable]"},
			absent:  []string{"Admin > Subscription"},
		},
		{
			name: "Enterprise Edition before 17.4", settings: mockgitlab.SeedSettings{Edition: "ee", ReceptiveAgents: true, GitLabVersion: "17.2.1"},
			token: testMaintainerToken, summary: "GitLab 17.2.1-ee is older than 17.4",
			detail: []string{"GitLab Enterprise Edition 17.2.1-ee predates GitLab 17.4", "Upgrade GitLab"},
		},
		{
			name: "no Ultimate licence, as an administrator sees it", settings: ee("premium", true), token: testRootToken,
			summary: "this GitLab has no Ultimate licence",
			detail:  []string{"GitLab Enterprise Edition 19.0.0-ee has a Premium licence", "Ultimate licence (Admin > Subscription)", "must be on too"},
			absent:  []string{"only an administrator"},
		},
		{
			name: "no licence at all (free)", settings: ee("free", true), token: testRootToken,
			summary: "this GitLab has no Ultimate licence",
			detail:  []string{"has no licence"},
		},
		{
			name: "setting off, as an administrator sees it", settings: ee("ultimate", false), token: testRootToken,
			summary: "the instance setting receptive_cluster_agents_enabled is off",
			detail:  []string{"Admin > Settings > General > GitLab agent for Kubernetes", "PUT /api/v4/application/settings?receptive_cluster_agents_enabled=true"},
			absent:  []string{"Admin > Subscription"},
		},
		{
			name: "neither, as an administrator sees it", settings: ee("premium", false), token: testRootToken,
			summary: "this GitLab has no Ultimate licence",
			detail:  []string{"Admin > Subscription", "PUT /api/v4/application/settings?receptive_cluster_agents_enabled=true"},
		},
		{
			name: "no licence, as a maintainer sees it", settings: ee("premium", true), token: testMaintainerToken,
			summary: "no Ultimate licence, or receptive_cluster_agents_enabled is off",
			detail:  []string{"only an administrator can tell", "Licence:", "Setting:", "17.4"},
		},
		{
			name: "setting off, as a maintainer sees it", settings: ee("ultimate", false), token: testMaintainerToken,
			summary: "no Ultimate licence, or receptive_cluster_agents_enabled is off",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mock, client, agentID := mockPlaying(t, tc.settings, tc.token)
			ctx := context.Background()
			check := func(what string, err error) {
				t.Helper()
				if !IsUnavailable(err) || IsNotFound(err) {
					t.Fatalf("%s: IsUnavailable %v, IsNotFound %v: %v", what, IsUnavailable(err), IsNotFound(err), err)
				}
				e := asError(t, err)
				if !strings.HasPrefix(e.Summary, "Receptive agents are not available: "+tc.summary+" (failed to ") {
					t.Errorf("%s: summary %q", what, e.Summary)
				}
				assertContains(t, what, described(e), tc.detail...)
				for _, s := range tc.absent {
					if strings.Contains(e.Detail, s) {
						t.Errorf("%s: detail names %q:\n%s", what, s, e.Detail)
					}
				}
			}
			_, err := client.CreateURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpc://agent:4242"})
			check("create", err)
			_, err = client.ListURLConfigurations(ctx, testProject, agentID)
			check("list", err)
			_, err = client.GetURLConfiguration(ctx, testProject, agentID, 1)
			check("get", err)
			err = client.DeleteURLConfiguration(ctx, testProject, agentID, 1)
			check("delete", err)
			// GitLab is asked about itself once per client.
			if n := mock.CountRequests(http.MethodGet, "/api/v4/metadata"); n != 1 {
				t.Errorf("GET /metadata sent %d times, want 1", n)
			}
			if n := mock.CountRequests(http.MethodGet, "/api/v4/license"); n > 1 {
				t.Errorf("GET /license sent %d times", n)
			}
			// The application settings hold the instance's secrets: never read.
			if n := mock.CountRequests("", "/api/v4/application/*"); n != 0 {
				t.Errorf("the application settings were read %d times", n)
			}
		})
	}
}

func TestReceptiveAgentsUnavailable_gitLabSaysNothing(t *testing.T) {
	// A GitLab that tells nothing about itself (no /metadata, as before 15.2).
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"error":"404 Not Found"}`)
	}))
	client := newTestClient(t, srv.URL, 0)
	_, err := client.ListURLConfigurations(context.Background(), testProject, 5)
	e := asError(t, err)
	if !IsUnavailable(err) || e.Summary != "Receptive agents are not available: GitLab does not serve them (failed to list the URL configurations of agent 5)" {
		t.Errorf("summary %q", e.Summary)
	}
	assertContains(t, "error", described(e), "the Community Edition, or GitLab before 17.4", "Ultimate licence",
		"receptive_cluster_agents_enabled", "check the API URL", "[check url]")
}

func TestMajorMinor(t *testing.T) {
	cases := map[string]bool{"17.3.9-ee": true, "17.4.0-ee": false, "16.11.2": true, "18.0.0-pre": false, "17.4": false, "17.10.1": false}
	for v, older := range cases {
		if got := (instanceFacts{version: v}).olderThan("17.4"); got != older {
			t.Errorf("%s older than 17.4: %v, want %v", v, got, older)
		}
	}
	if (instanceFacts{version: "nonsense"}).olderThan("17.4") {
		t.Error("an unreadable version counts as older")
	}
}
