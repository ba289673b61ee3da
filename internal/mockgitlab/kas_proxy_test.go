package mockgitlab

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// proxyEnv is a mock with one connected agent ("cluster" in root/test) whose configuration lets the
// project's developers (and so its maintainer) through, and a k8s_proxy token of the maintainer.
type proxyEnv struct {
	*testEnv
	agent AgentInfo
	pat   createdPAT
}

const userAccessConfigYAML = `# managed elsewhere
user_access:
  access_as:
    agent: {}
  projects:
    - id: root/test
`

func newProxyEnv(t *testing.T) *proxyEnv {
	t.Helper()
	e := newEnv(t)
	a := e.mustAgent(20, "cluster")
	if _, err := e.srv.PushFile(20, ".gitlab/agents/cluster/config.yaml", []byte(userAccessConfigYAML), "maintainer", "Configure"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.ConnectAgent(a.ID, AgentConnection{}); err != nil {
		t.Fatal(err)
	}
	return &proxyEnv{testEnv: e, agent: a, pat: e.mintPAT(`{"name":"kubectl","scopes":["k8s_proxy"]}`)}
}

// proxy sends a request to the Kubernetes API proxy with the given Authorization header.
func (e *proxyEnv) proxy(method, path, authorization string) result {
	e.t.Helper()
	c := call{method: method, path: KASProxyPath + path}
	if authorization != "" {
		c.header = map[string]string{"Authorization": authorization}
	}
	return e.send(c)
}

// bearerFor is the header for a token of the proxy's form.
func (e *proxyEnv) bearerFor(token string) string {
	return "Bearer pat:" + strconv.FormatInt(e.agent.ID, 10) + ":" + token
}

const proxyUnauthorizedBody = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"GitLab Agent Server: Unauthorized","reason":"Unauthorized","code":401}`

// expectProxyUnauthorized checks KAS's 401 with its Gitlab-Unauthorized header.
func expectProxyUnauthorized(t *testing.T, r result) {
	t.Helper()
	expect(t, r, http.StatusUnauthorized, proxyUnauthorizedBody)
	if r.header.Get("Gitlab-Unauthorized") != "true" {
		t.Fatalf("no Gitlab-Unauthorized header: %v", r.header)
	}
}

func TestK8sProxyAnswersTheAllowedUser(t *testing.T) {
	e := newProxyEnv(t)
	auth := e.bearerFor(e.pat.Token)

	r := e.proxy(http.MethodGet, "/version", auth)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `"gitVersion":"v1.33.1"`) || r.header.Get("Via") == "" {
		t.Fatalf("GET /version: %s %v", r.body, r.header)
	}
	r = e.proxy(http.MethodGet, "/api/v1/namespaces", auth)
	expectStatus(t, r, http.StatusOK)
	for _, want := range []string{`"kind":"NamespaceList"`, `"name":"gitlab-agent-cluster"`, `"name":"kube-system"`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("namespaces lack %s: %s", want, r.body)
		}
	}
	t.Run("read-only", func(t *testing.T) {
		r := e.proxy(http.MethodPost, "/api/v1/namespaces", auth)
		expectStatus(t, r, http.StatusForbidden)
		if !strings.Contains(r.body, `cannot create resource \"namespaces\"`) {
			t.Fatalf("body %s", r.body)
		}
		expectStatus(t, e.proxy(http.MethodPut, "/version", auth), http.StatusMethodNotAllowed)
		expect(t, e.proxy(http.MethodGet, "/api/v1/pods", auth), http.StatusNotFound,
			`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}`)
	})
	t.Run("requests are logged", func(t *testing.T) {
		if n := e.srv.CountRequests(http.MethodGet, KASProxyPath+"/version"); n == 0 {
			t.Fatal("no proxy request in the log")
		}
	})
	t.Run("an administrator passes without being listed", func(t *testing.T) {
		r := e.post("/user/personal_access_tokens", tokRoot, `{"name":"admin","scopes":["k8s_proxy"]}`)
		expectStatus(t, r, http.StatusCreated)
		expectStatus(t, e.proxy(http.MethodGet, "/version", e.bearerFor(decode[createdPAT](t, r).Token)), http.StatusOK)
	})
	t.Run("a group covers its projects", func(t *testing.T) {
		a := e.mustAgent(21, "platform")
		cfg := "user_access:\n  access_as:\n    agent: {}\n  groups:\n    - id: infra/platform\n"
		if _, err := e.srv.PushFile(21, ".gitlab/agents/platform/config.yaml", []byte(cfg), "maintainer", "Configure"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.ConnectAgent(a.ID, AgentConnection{}); err != nil {
			t.Fatal(err)
		}
		dev := decode[createdPAT](t, e.post("/user/personal_access_tokens", tokDeveloper, `{"name":"dev","scopes":["k8s_proxy"]}`))
		rep := decode[createdPAT](t, e.post("/user/personal_access_tokens", tokReporter, `{"name":"rep","scopes":["k8s_proxy"]}`))
		header := func(token string) string { return "Bearer pat:" + strconv.FormatInt(a.ID, 10) + ":" + token }
		expectStatus(t, e.proxy(http.MethodGet, "/version", header(dev.Token)), http.StatusOK)
		// A Reporter is below the Developer role user_access needs.
		expectProxyUnauthorized(t, e.proxy(http.MethodGet, "/version", header(rep.Token)))
	})
}

func TestK8sProxyRefusals(t *testing.T) {
	e := newProxyEnv(t)
	id := strconv.FormatInt(e.agent.ID, 10)
	t.Run("malformed headers", func(t *testing.T) {
		cases := []struct{ header, detail string }{
			{"", "no valid credentials provided"},
			{"Basic " + e.pat.Token, "Authorization header: expecting Bearer token"},
			{"Bearer " + e.pat.Token, "Authorization header: invalid value"},
			{"Bearer job:" + id + ":" + e.pat.Token, "Authorization header: unknown token type"},
			{"Bearer pat:" + e.pat.Token, "Authorization header: invalid value"},
			{"Bearer pat:cluster:" + e.pat.Token, `Authorization header: failed to parse: strconv.ParseInt: parsing "cluster": invalid syntax`},
			{"Bearer pat:" + id + ":", "Authorization header: empty token"},
		}
		for _, tc := range cases {
			r := e.proxy(http.MethodGet, "/version", tc.header)
			want := strings.Replace(proxyUnauthorizedBody, `"GitLab Agent Server: Unauthorized"`, `"GitLab Agent Server: Unauthorized: `+strings.ReplaceAll(tc.detail, `"`, `\"`)+`"`, 1)
			expect(t, r, http.StatusUnauthorized, want)
		}
	})
	t.Run("an unknown token is GitLab's 400, KAS's 500", func(t *testing.T) {
		expect(t, e.proxy(http.MethodGet, "/version", e.bearerFor("glpat-unknown")), http.StatusInternalServerError,
			`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"GitLab Agent Server: Failed to authorize user session","reason":"InternalError","code":500}`)
	})
	t.Run("an api token lacks the k8s_proxy scope", func(t *testing.T) {
		expectProxyUnauthorized(t, e.proxy(http.MethodGet, "/version", e.bearerFor(tokMaintainer)))
	})
	t.Run("a CI job token", func(t *testing.T) {
		expectProxyUnauthorized(t, e.proxy(http.MethodGet, "/version", "Bearer ci:"+id+":job-token"))
	})
	t.Run("another agent", func(t *testing.T) {
		expectProxyUnauthorized(t, e.proxy(http.MethodGet, "/version", "Bearer pat:999:"+e.pat.Token))
	})
	t.Run("a user not listed under user_access", func(t *testing.T) {
		r := e.send(bearer(http.MethodPost, "/user/personal_access_tokens", tokOutsider, `{"name":"x","scopes":["k8s_proxy"]}`))
		expectProxyUnauthorized(t, e.proxy(http.MethodGet, "/version", e.bearerFor(decode[createdPAT](t, r).Token)))
	})
	t.Run("configurations that grant nothing", func(t *testing.T) {
		configs := map[string]string{
			"no user_access":       "ci_access:\n  projects:\n    - id: root/test\n",
			"no access_as":         "user_access:\n  projects:\n    - id: root/test\n",
			"two access_as":        "user_access:\n  access_as:\n    agent: {}\n    user: {}\n  projects:\n    - id: root/test\n",
			"outside the root":     "user_access:\n  access_as:\n    agent: {}\n  projects:\n    - id: infra/platform/clusters\n",
			"group in a user tree": "user_access:\n  access_as:\n    agent: {}\n  groups:\n    - id: root\n",
			"not YAML":             "user_access: [\n",
		}
		for name, cfg := range configs {
			if _, err := e.srv.PushFile(20, ".gitlab/agents/cluster/config.yaml", []byte(cfg), "maintainer", name); err != nil {
				t.Fatal(err)
			}
			if r := e.proxy(http.MethodGet, "/version", e.bearerFor(e.pat.Token)); r.status != http.StatusUnauthorized {
				t.Errorf("%s: got %d %s, want 401", name, r.status, r.body)
			}
		}
		if _, err := e.srv.PushFileDeletion(20, ".gitlab/agents/cluster/config.yaml", "maintainer", "Remove"); err != nil {
			t.Fatal(err)
		}
		expectProxyUnauthorized(t, e.proxy(http.MethodGet, "/version", e.bearerFor(e.pat.Token)))
		if _, err := e.srv.PushFile(20, ".gitlab/agents/cluster/config.yaml", []byte(userAccessConfigYAML), "maintainer", "Restore"); err != nil {
			t.Fatal(err)
		}
		expectStatus(t, e.proxy(http.MethodGet, "/version", e.bearerFor(e.pat.Token)), http.StatusOK)
	})
	t.Run("no agentk connected", func(t *testing.T) {
		a := e.mustAgent(20, "idle")
		cfg := strings.ReplaceAll(userAccessConfigYAML, "# managed elsewhere\n", "")
		if _, err := e.srv.PushFile(20, ".gitlab/agents/idle/config.yaml", []byte(cfg), "maintainer", "Configure"); err != nil {
			t.Fatal(err)
		}
		r := e.proxy(http.MethodGet, "/version", "Bearer pat:"+strconv.FormatInt(a.ID, 10)+":"+e.pat.Token)
		expectStatus(t, r, http.StatusServiceUnavailable)
		if _, err := e.srv.ConnectAgent(a.ID, AgentConnection{}); err != nil {
			t.Fatal(err)
		}
		expectStatus(t, e.proxy(http.MethodGet, "/version", "Bearer pat:"+strconv.FormatInt(a.ID, 10)+":"+e.pat.Token), http.StatusOK)
	})
	t.Run("revoked, then refused at once", func(t *testing.T) {
		pat := e.mintPAT(`{"name":"short","scopes":["k8s_proxy"]}`)
		expectStatus(t, e.proxy(http.MethodGet, "/version", e.bearerFor(pat.Token)), http.StatusOK)
		expectStatus(t, e.send(bearer(http.MethodDelete, "/personal_access_tokens/self", pat.Token, "")), http.StatusNoContent)
		expectProxyUnauthorized(t, e.proxy(http.MethodGet, "/version", e.bearerFor(pat.Token)))
	})
	t.Run("KAS disabled", func(t *testing.T) {
		settings := e.srv.Settings()
		settings.KASDisabled = true
		if err := e.srv.SetSettings(settings); err != nil {
			t.Fatal(err)
		}
		expect(t, e.proxy(http.MethodGet, "/version", e.bearerFor(e.pat.Token)), http.StatusNotFound, `{"error":"404 Not Found"}`)
	})
}
