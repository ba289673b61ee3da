package mockgitlab

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Tests of the GitLab editions and versions the mock plays (§5.1 of the behaviour spec and issue 11):
// Community Edition, Enterprise Edition without Ultimate or with receptive agents switched off, GitLab
// before 17.4, and GitLab EE 17.x with Base64 certificates.

// seedWith is the default seed with other settings.
func seedWith(settings SeedSettings) Seed {
	seed := DefaultSeed()
	seed.Settings = settings
	return seed
}

// configPaths are the four URL-configuration endpoints of an agent.
func configPaths(agentID int64) []call {
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", agentID)
	return []call{
		{method: http.MethodGet, path: base},
		{method: http.MethodGet, path: base + "/1"},
		{method: http.MethodPost, path: base, body: `{"url":"grpcs://agent.example.com"}`},
		{method: http.MethodDelete, path: base + "/1"},
	}
}

func TestSettingsDefaults(t *testing.T) {
	e := newEnvWithSeed(t, Seed{Users: DefaultSeed().Users, Projects: DefaultSeed().Projects})
	want := SeedSettings{Edition: "ee", Licence: "ultimate", CertificateEncoding: "pem", GitLabVersion: "19.0.0"}
	if got := e.srv.Settings(); got != want {
		t.Fatalf("Settings() = %+v, want %+v", got, want)
	}
	// Receptive agents are off unless switched on, as in GitLab.
	a := e.mustAgent(20, "agent-1")
	for _, c := range configPaths(a.ID) {
		c.token = tokMaintainer
		expect(t, e.send(c), 404, `{"message":"404 Not Found"}`)
	}
	if got := e.srv.Settings(); got.ReceptiveAgents {
		t.Fatal("receptive agents on by default")
	}
	ce := newEnvWithSeed(t, seedWith(SeedSettings{Edition: "ce"}))
	if got := ce.srv.Settings(); got.Licence != "free" {
		t.Fatalf("CE licence = %q", got.Licence)
	}
}

func TestCommunityEdition(t *testing.T) {
	e := newEnvWithSeed(t, seedWith(SeedSettings{Edition: "ce", ReceptiveAgents: true}))
	a := e.mustAgent(20, "agent-1")

	// Agents: the CE entity has no is_receptive.
	r := e.get(fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID), tokDeveloper)
	expectStatus(t, r, 200)
	expectKeys(t, r.body, "id", "name", "config_project", "created_at", "created_by_user_id")
	r = e.get("/projects/20/cluster_agents", tokDeveloper)
	if strings.Contains(r.body, "is_receptive") {
		t.Fatalf("CE agent list has is_receptive: %s", r.body)
	}
	r = e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-2"}`)
	expectStatus(t, r, 201)
	expectKeys(t, r.body, "id", "name", "config_project", "created_at", "created_by_user_id")

	// URL configurations: no such routes, whoever asks, even without a token.
	for _, c := range configPaths(a.ID) {
		for _, tok := range []string{tokMaintainer, tokRoot, ""} {
			c.token = tok
			expect(t, e.send(c), 404, `{"error":"404 Not Found"}`)
		}
	}
	if _, ok := e.srv.URLConfiguration(a.ID); ok {
		t.Fatal("CE created a URL configuration")
	}

	// Metadata says Community Edition, which has no licence API.
	if err := e.srv.SetSettings(SeedSettings{Edition: EditionCE, KASDisabled: true}); err != nil {
		t.Fatal(err)
	}
	expect(t, e.get("/metadata", tokDeveloper), 200,
		`{"version":"19.0.0","revision":"6f1c2a9b3d4","kas":{"enabled":false,"externalUrl":null,"externalK8sProxyUrl":null,"version":null},"enterprise":false}`)
	expect(t, e.get("/license", tokRoot), 404, `{"error":"404 Not Found"}`)
}

func TestEnterpriseEditionGates(t *testing.T) {
	cases := []struct {
		name     string
		settings SeedSettings
	}{
		{"free", SeedSettings{Edition: "ee", Licence: "free", ReceptiveAgents: true}},
		{"premium", SeedSettings{Edition: "ee", Licence: "premium", ReceptiveAgents: true}},
		{"ultimate with the setting off", SeedSettings{Edition: "ee", Licence: "ultimate", ReceptiveAgents: false}},
		{"premium with the setting off", SeedSettings{Edition: "ee", Licence: "premium"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWithSeed(t, seedWith(tc.settings))
			a := e.mustAgent(20, "agent-1")
			for _, c := range configPaths(a.ID) {
				// Authentication first, then the project lookup, then licence and setting: before the
				// parameters and the role.
				c.token = tokDeveloper
				expect(t, e.send(c), 404, `{"message":"404 Not Found"}`)
				c.token = tokOutsider
				expect(t, e.send(c), 404, `{"message":"404 Project Not Found"}`)
				c.token = ""
				expect(t, e.send(c), 401, `{"message":"401 Unauthorized"}`)
			}
			expect(t, e.post(fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID), tokMaintainer, `{}`),
				404, `{"message":"404 Not Found"}`)
			// The EE agent entity reports is_receptive whatever the licence.
			r := e.get(fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID), tokDeveloper)
			if got := decode[map[string]any](t, r)["is_receptive"]; got != false {
				t.Fatalf("is_receptive = %v (%s)", got, r.body)
			}
			// Metadata says Enterprise Edition, whatever the licence.
			m := decode[map[string]any](t, e.get("/metadata", tokMaintainer))
			if m["enterprise"] != true || m["version"] != "19.0.0-ee" {
				t.Fatalf("metadata = %v", m)
			}
			// Only an administrator reads the licence.
			expect(t, e.get("/license", tokMaintainer), 403, `{"message":"403 Forbidden"}`)
			if tc.settings.Licence == "free" {
				expect(t, e.get("/license", tokRoot), 200, "null")
				return
			}
			// GitLab's GitlabLicenseWithActiveUsers: its 13 keys, the plan among them.
			l := decode[map[string]any](t, e.get("/license", tokRoot))
			if l["plan"] != tc.settings.Licence || l["id"] != float64(1) {
				t.Errorf("licence %v, want plan %q", l, tc.settings.Licence)
			}
			keys := slices.Sorted(maps.Keys(l))
			want := []string{"active_users", "add_ons", "created_at", "expired", "expires_at", "historical_max", "id",
				"licensee", "maximum_user_count", "overage", "plan", "starts_at", "user_limit"}
			if !slices.Equal(keys, want) {
				t.Errorf("licence keys %v, want GitLab's %v", keys, want)
			}
		})
	}
}

func TestGitLabBefore17_4(t *testing.T) {
	e := newEnvWithSeed(t, seedWith(SeedSettings{Edition: "ee", ReceptiveAgents: true, GitLabVersion: "17.3.5"}))
	a := e.mustAgent(20, "agent-1")
	for _, c := range configPaths(a.ID) {
		c.token = tokMaintainer
		expect(t, e.send(c), 404, `{"error":"404 Not Found"}`)
	}
	expectKeys(t, e.get(fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID), tokDeveloper).body,
		"id", "name", "config_project", "created_at", "created_by_user_id")
	if m := decode[map[string]any](t, e.get("/metadata", tokMaintainer)); m["version"] != "17.3.5-ee" {
		t.Fatalf("metadata = %v", m)
	}
	// Upgraded in place: the routes appear, the agents keep their ids.
	if err := e.srv.SetSettings(SeedSettings{Edition: "ee", ReceptiveAgents: true, GitLabVersion: "17.4.0"}); err != nil {
		t.Fatal(err)
	}
	expect(t, e.get(fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID), tokMaintainer), 200, "[]")
}

func TestBase64Certificates(t *testing.T) {
	e := newEnvWithSeed(t, seedWith(SeedSettings{Edition: "ee", ReceptiveAgents: true, CertificateEncoding: "base64", GitLabVersion: "17.6.0"}))
	client := genCert(t, false)
	ca := genCert(t, true)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	// MIME-style Base64 with line breaks, as `base64` prints it: Ruby's decode64 skips them.
	wrapped := func(s string) string {
		enc := b64(s)
		var lines []string
		for len(enc) > 76 {
			lines = append(lines, enc[:76])
			enc = enc[76:]
		}
		return strings.Join(append(lines, enc), "\n") + "\n"
	}

	t.Run("raw PEM is refused", func(t *testing.T) {
		a := e.mustAgent(20, "raw-pem")
		r := e.post(fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID), tokMaintainer, jsonBody(t, map[string]string{
			"url": "grpcs://agent.example.com", "client_cert": client.cert, "client_key": client.pkcs8, "ca_cert": ca.cert,
		}))
		expect(t, r, 400, `{"message":"400 Bad request - [\"Ca cert must be a valid PEM certificate\", `+
			`\"Client cert must be a valid PEM certificate\", \"Client key must be a valid PEM private key\"]"}`)
		if _, ok := e.srv.URLConfiguration(a.ID); ok {
			t.Fatal("refused create left a configuration")
		}
	})
	t.Run("Base64 is decoded, and answered in Base64", func(t *testing.T) {
		a := e.mustAgent(20, "base64")
		base := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID)
		r := e.post(base, tokMaintainer, jsonBody(t, map[string]string{
			"url": "grpcs://agent.example.com", "client_cert": wrapped(client.cert), "client_key": b64(client.sec1), "ca_cert": b64(ca.cert),
		}))
		expectStatus(t, r, 201)
		cfg := decode[map[string]any](t, r)
		if cfg["client_cert"] != b64(client.cert) || cfg["ca_cert"] != b64(ca.cert) || cfg["public_key"] != nil {
			t.Fatalf("create answered %s", r.body)
		}
		id := int64(cfg["id"].(float64))
		for _, path := range []string{base, fmt.Sprintf("%s/%d", base, id)} {
			body := e.get(path, tokMaintainer).body
			if !strings.Contains(body, `"client_cert":"`+b64(client.cert)+`"`) || strings.Contains(body, "BEGIN") {
				t.Fatalf("GET %s = %s", path, body)
			}
		}
		// GitLab stores the decoded PEM.
		info, _ := e.srv.URLConfiguration(a.ID)
		if info.ClientCert == nil || *info.ClientCert != client.cert || *info.CACert != ca.cert || *info.ClientKey != client.sec1 {
			t.Fatalf("stored %+v", info)
		}
	})
	t.Run("JWT needs no certificate", func(t *testing.T) {
		a := e.mustAgent(20, "jwt")
		r := e.post(fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID), tokMaintainer, `{"url":"grpc://agent.example.com","tls_host":"agent.internal"}`)
		expectStatus(t, r, 201)
		if cfg := decode[map[string]any](t, r); cfg["public_key"] == nil || cfg["tls_host"] != "agent.internal" {
			t.Fatalf("create answered %s", r.body)
		}
	})
	t.Run("switching to PEM, as an upgrade to a later GitLab", func(t *testing.T) {
		a := e.mustAgent(20, "upgraded")
		base := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID)
		expectStatus(t, e.post(base, tokMaintainer, jsonBody(t, map[string]string{"url": "grpcs://a.example.com", "ca_cert": b64(ca.cert)})), 201)
		settings := e.srv.Settings()
		settings.CertificateEncoding = "pem"
		if err := e.srv.SetSettings(settings); err != nil {
			t.Fatal(err)
		}
		if got := decode[[]map[string]any](t, e.get(base, tokMaintainer)); len(got) != 1 || got[0]["ca_cert"] != ca.cert {
			t.Fatalf("after the upgrade: %v", got)
		}
	})
}

func TestRubyDecode64(t *testing.T) {
	cases := map[string]string{
		"aGVsbG8=":     "hello",
		"aGVs\nbG8=\n": "hello",
		"aGVsbG8":      "hello",
		"aGVsbG8=junk": "hello",
		"a GV-sb*G8":   "hello",
		"":             "",
		"QQ":           "A",
		"QUJD\r\nREVG": "ABCDEF",
	}
	for in, want := range cases {
		if got := rubyDecode64(in); got != want {
			t.Errorf("rubyDecode64(%q) = %q, want %q", in, got, want)
		}
	}
	// Raw PEM decodes to bytes that are no certificate: why GitLab 17.x refuses it.
	if isPEMCertificate(rubyDecode64(genCert(t, false).cert)) {
		t.Error("decoding raw PEM gave a certificate")
	}
}

func TestTokenScopesAndStates(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	base := fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID)
	const insufficient = `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_api"}`

	// read_api: reads pass, writes get 403 insufficient_scope, before the project lookup.
	expectStatus(t, e.get("/user", DefaultReadAPIToken), 200)
	expectStatus(t, e.get(base, DefaultReadAPIToken), 200)
	expectStatus(t, e.send(call{method: http.MethodHead, path: base, token: DefaultReadAPIToken}), 200)
	expect(t, e.post("/projects/20/cluster_agents", DefaultReadAPIToken, `{"name":"x"}`), 403, insufficient)
	expect(t, e.post(base+"/tokens", DefaultReadAPIToken, `{"name":"x"}`), 403, insufficient)
	expect(t, e.del(base, DefaultReadAPIToken), 403, insufficient)
	expect(t, e.post("/projects/999/cluster_agents", DefaultReadAPIToken, `{}`), 403, insufficient)
	if _, ok := e.srv.Agent(a.ID); !ok {
		t.Fatal("a read_api token deleted the agent")
	}

	// Expired and revoked tokens: GitLab's OAuth-style 401, with WWW-Authenticate.
	for tok, desc := range map[string]string{
		DefaultExpiredToken: "Token is expired. You can either do re-authorization or token refresh.",
		DefaultRevokedToken: "Token was revoked. You have to re-authorize from the user.",
	} {
		for _, c := range []call{{method: http.MethodGet, path: "/user"}, {method: http.MethodPost, path: "/projects/20/cluster_agents", body: `{"name":"x"}`}} {
			c.token = tok
			r := e.send(c)
			expect(t, r, 401, `{"error":"invalid_token","error_description":"`+desc+`"}`)
			if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `error="invalid_token"`) {
				t.Fatalf("WWW-Authenticate = %q", h)
			}
		}
	}
	// The same token as a bearer token.
	r := e.send(call{method: http.MethodDelete, path: base, header: map[string]string{"Authorization": "Bearer " + DefaultReadAPIToken}})
	expect(t, r, 403, insufficient)
	// An unknown token stays a plain 401.
	expect(t, e.get("/user", "glpat-unknown"), 401, `{"message":"401 Unauthorized"}`)
}

func TestNameWithNamespace(t *testing.T) {
	seed := DefaultSeed()
	seed.Users = append(seed.Users, SeedUser{ID: 9, Username: "carol", Tokens: []string{"tok-carol"}})
	seed.Projects = append(seed.Projects,
		SeedProject{ID: 30, PathWithNamespace: "carol/app", Name: "My App", Members: map[string]string{"carol": "owner"}},
		SeedProject{ID: 31, PathWithNamespace: "team/sub/svc", Members: map[string]string{"carol": "owner"}})
	e := newEnvWithSeed(t, seed)
	cases := []struct {
		project int64
		token   string
		want    string
	}{
		{20, tokMaintainer, "Administrator / test"},        // root's display name
		{21, tokMaintainer, "Infra / Platform / clusters"}, // seeded group name
		{30, "tok-carol", "carol / My App"},                // no display name: the username
		{31, "tok-carol", "team / sub / svc"},              // group without a name: its path
	}
	for _, tc := range cases {
		p := decode[map[string]any](t, e.get(fmt.Sprintf("/projects/%d", tc.project), tc.token))
		if p["name_with_namespace"] != tc.want {
			t.Errorf("project %d: name_with_namespace = %v, want %q", tc.project, p["name_with_namespace"], tc.want)
		}
	}
	a, err := e.srv.CreateAgent(21, "agent-1", 2)
	if err != nil {
		t.Fatal(err)
	}
	r := e.get(fmt.Sprintf("/projects/21/cluster_agents/%d", a.ID), tokMaintainer)
	if cp := decode[map[string]any](t, r)["config_project"].(map[string]any); cp["name_with_namespace"] != "Infra / Platform / clusters" {
		t.Fatalf("config_project = %v", cp)
	}
	// Moved to another namespace, the project takes that namespace's name; renamed in place, it keeps it.
	if err := e.srv.RenameProject(21, "infra/platform/clusters-2"); err != nil {
		t.Fatal(err)
	}
	if p := decode[map[string]any](t, e.get("/projects/21", tokMaintainer)); p["name_with_namespace"] != "Infra / Platform / clusters" {
		t.Fatalf("after rename: %v", p["name_with_namespace"])
	}
	if err := e.srv.RenameProject(21, "root/clusters"); err != nil {
		t.Fatal(err)
	}
	if p := decode[map[string]any](t, e.get("/projects/21", tokMaintainer)); p["name_with_namespace"] != "Administrator / clusters" {
		t.Fatalf("after move: %v", p["name_with_namespace"])
	}
}

func TestGrandfatheredTokens(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	tokens := fmt.Sprintf("/projects/20/cluster_agents/%d/tokens", a.ID)
	var ids []int64
	for i := range 3 {
		r := e.post(fmt.Sprintf("/-/mock/agents/%d/tokens", a.ID), "", fmt.Sprintf(`{"name":"old-%d","created_by_user_id":2}`, i))
		expectStatus(t, r, 201)
		info := decode[TokenInfo](t, r)
		if info.Token != "" || info.Status != "active" || info.CreatedByUserID != 2 {
			t.Fatalf("control answered %s", r.body)
		}
		ids = append(ids, info.ID)
	}
	if got := len(decode[[]map[string]any](t, e.get(tokens, tokMaintainer))); got != 3 {
		t.Fatalf("%d active tokens listed, want 3", got)
	}
	// GitLab refuses a fourth, and a third after revoking one; after revoking two, one more fits.
	expect(t, e.post(tokens, tokMaintainer, `{"name":"new"}`), 400,
		`{"message":"400 Bad request - An agent can have only two active tokens at a time"}`)
	expect(t, e.del(fmt.Sprintf("%s/%d", tokens, ids[0]), tokMaintainer), 204, "")
	expectStatus(t, e.post(tokens, tokMaintainer, `{"name":"new"}`), 400)
	expect(t, e.del(fmt.Sprintf("%s/%d", tokens, ids[1]), tokMaintainer), 204, "")
	expectStatus(t, e.post(tokens, tokMaintainer, `{"name":"new"}`), 201)

	expectStatus(t, e.post("/-/mock/agents/999/tokens", "", `{"name":"x"}`), 404)
	expectStatus(t, e.post(fmt.Sprintf("/-/mock/agents/%d/tokens", a.ID), "", `{"name":"x","created_by_user_id":99}`), 404)
	expectStatus(t, e.post(fmt.Sprintf("/-/mock/agents/%d/tokens", a.ID), "", `{"name":""}`), 400)
	expectStatus(t, e.post(fmt.Sprintf("/-/mock/agents/%d/tokens", a.ID), "", ``), 400)
}

func TestControlSettingsEdition(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	cfgs := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID)
	put := func(body string) result {
		return e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: body})
	}
	expect(t, put(`{"edition":"ce"}`), 200,
		`{"certificate_encoding":"pem","edition":"ce","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":false,"licence":"free","rate_limit":null,"rate_limit_headers_always":false,"receptive_agents":true}`)
	expect(t, e.get(cfgs, tokMaintainer), 404, `{"error":"404 Not Found"}`)
	expect(t, put(`{"edition":"ee","licence":"premium"}`), 200,
		`{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":false,"licence":"premium","rate_limit":null,"rate_limit_headers_always":false,"receptive_agents":true}`)
	expect(t, e.get(cfgs, tokMaintainer), 404, `{"message":"404 Not Found"}`)
	expectStatus(t, put(`{"licence":"ultimate","certificate_encoding":"base64","gitlab_version":"17.8.1"}`), 200)
	expect(t, e.get(cfgs, tokMaintainer), 200, "[]")
	if got := e.srv.Settings(); got.CertificateEncoding != "base64" || got.GitLabVersion != "17.8.1" {
		t.Fatalf("settings = %+v", got)
	}
	for _, bad := range []string{`{"edition":"gold"}`, `{"edition":"ce","licence":"ultimate"}`, `{"licence":"bronze"}`,
		`{"certificate_encoding":"der"}`, `{"gitlab_version":"seventeen"}`} {
		expectStatus(t, put(bad), 400)
	}
	if got := e.srv.Settings(); got.Edition != "ee" || got.Licence != "ultimate" {
		t.Fatalf("refused changes applied: %+v", got)
	}
}

func TestParseSeedSettingsErrors(t *testing.T) {
	cases := map[string]string{
		"edition":             `{"settings":{"edition":"enterprise"}}`,
		"licence":             `{"settings":{"licence":"gold"}}`,
		"CE with Ultimate":    `{"settings":{"edition":"ce","licence":"ultimate"}}`,
		"CE with Premium":     `{"settings":{"edition":"ce","licence":"premium"}}`,
		"encoding":            `{"settings":{"certificate_encoding":"der"}}`,
		"version":             `{"settings":{"gitlab_version":"17"}}`,
		"version with text":   `{"settings":{"gitlab_version":"17.4.0-ee"}}`,
		"token scope":         `{"users":[{"id":1,"username":"a","access_tokens":[{"token":"t","scopes":["sudo"]}]}]}`,
		"token state":         `{"users":[{"id":1,"username":"a","access_tokens":[{"token":"t","state":"lost"}]}]}`,
		"empty access token":  `{"users":[{"id":1,"username":"a","access_tokens":[{"token":""}]}]}`,
		"access token reused": `{"users":[{"id":1,"username":"a","tokens":["t"],"access_tokens":[{"token":"t"}]}]}`,
		"access token of another user": `{"users":[{"id":1,"username":"a","tokens":["t"]},` +
			`{"id":2,"username":"b","access_tokens":[{"token":"t"}]}]}`,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSeed([]byte(data)); err == nil {
				t.Fatal("ParseSeed accepted an invalid seed")
			}
		})
	}
	seed, err := ParseSeed([]byte(`{"settings":{"edition":"ce","licence":"free","certificate_encoding":"base64","gitlab_version":"16.11"}}`))
	if err != nil || seed.Settings.Edition != "ce" || seed.Settings.GitLabVersion != "16.11" {
		t.Fatalf("ParseSeed = %+v, %v", seed.Settings, err)
	}
}
