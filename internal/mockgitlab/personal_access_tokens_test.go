package mockgitlab

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// bearer is a call authenticated with "Authorization: Bearer <token>".
func bearer(method, path, token, body string) call {
	c := call{method: method, path: path, body: body}
	if token != "" {
		c.header = map[string]string{"Authorization": "Bearer " + token}
	}
	return c
}

// createdPAT is the decoded answer of POST /user/personal_access_tokens.
type createdPAT struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Revoked   bool     `json:"revoked"`
	Scopes    []string `json:"scopes"`
	UserID    int64    `json:"user_id"`
	Active    bool     `json:"active"`
	ExpiresAt string   `json:"expires_at"`
	Token     string   `json:"token"`
}

// mintPAT creates a k8s_proxy token for the maintainer and returns the answer.
func (e *testEnv) mintPAT(body string) createdPAT {
	e.t.Helper()
	r := e.post("/user/personal_access_tokens", tokMaintainer, body)
	expectStatus(e.t, r, http.StatusCreated)
	return decode[createdPAT](e.t, r)
}

func TestPersonalAccessTokenCreate(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	e.srv.SetNow(fixedClock(now))

	r := e.post("/user/personal_access_tokens", tokMaintainer, `{"name":"kubectl","scopes":["k8s_proxy"]}`)
	expectStatus(t, r, http.StatusCreated)
	if !strings.HasPrefix(r.body, `{"id":1,"name":"kubectl","revoked":false,"created_at":"2026-03-14T15:09:26.000Z",`+
		`"description":null,"scopes":["k8s_proxy"],"user_id":2,"last_used_at":null,"active":true,"expires_at":"2026-03-15",`+
		`"token":"glpat-`) {
		t.Fatalf("body %s", r.body)
	}
	pat := decode[createdPAT](t, r)
	if len(pat.Token) < len("glpat-")+20 {
		t.Fatalf("token %d characters long", len(pat.Token))
	}

	t.Run("a comma-separated scope, a description and an explicit date", func(t *testing.T) {
		r := e.post("/user/personal_access_tokens", tokDeveloper, `{"name":"x","scopes":"k8s_proxy","description":"d","expires_at":"2026-04-01"}`)
		expectStatus(t, r, http.StatusCreated)
		got := decode[createdPAT](t, r)
		if got.UserID != 3 || got.ExpiresAt != "2026-04-01" || len(got.Scopes) != 1 || !strings.Contains(r.body, `"description":"d"`) {
			t.Fatalf("body %s", r.body)
		}
	})
	t.Run("the secret authenticates nothing but its own revocation", func(t *testing.T) {
		r := e.send(bearer(http.MethodGet, "/user", pat.Token, ""))
		expect(t, r, http.StatusForbidden, `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_api read_user"}`)
		expectStatus(t, e.send(bearer(http.MethodGet, "/metadata", pat.Token, "")), http.StatusForbidden)
		expectStatus(t, e.send(bearer(http.MethodPost, "/user/personal_access_tokens", pat.Token, `{"name":"x","scopes":["k8s_proxy"]}`)), http.StatusForbidden)
	})
	t.Run("the Go API shows it", func(t *testing.T) {
		all := e.srv.PersonalAccessTokens()
		if len(all) != 2 || all[0].ID != 1 || all[0].Token != pat.Token || all[0].State != "active" || all[0].ExpiresAt != "2026-03-15" {
			t.Fatalf("PersonalAccessTokens() = %+v", all)
		}
	})
}

func TestPersonalAccessTokenCreateErrors(t *testing.T) {
	e := newEnv(t)
	e.srv.SetNow(fixedClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)))
	path := "/user/personal_access_tokens"
	cases := []struct {
		name, token, body string
		status            int
		want              string
	}{
		{"no name", tokMaintainer, `{"scopes":["k8s_proxy"]}`, 400, `{"error":"name is missing"}`},
		{"nothing", tokMaintainer, `{}`, 400, `{"error":"name is missing, scopes is missing"}`},
		{"api scope", tokMaintainer, `{"name":"x","scopes":["api"]}`, 400, `{"error":"scopes does not have a valid value"}`},
		{"api among others", tokMaintainer, `{"name":"x","scopes":"k8s_proxy,api"}`, 400, `{"error":"scopes does not have a valid value"}`},
		{"bad date", tokMaintainer, `{"name":"x","scopes":["k8s_proxy"],"expires_at":"tomorrow"}`, 400, `{"error":"expires_at is invalid"}`},
		{"no scope", tokMaintainer, `{"name":"x","scopes":[]}`, 422, `{"message":"Scopes can't be blank"}`},
		{"beyond the maximum lifetime", tokMaintainer, `{"name":"x","scopes":["k8s_proxy"],"expires_at":"2027-03-15"}`, 422,
			`{"message":"Expiration date must be before 2027-03-14"}`},
		{"read_api token", DefaultReadAPIToken, `{"name":"x","scopes":["k8s_proxy"]}`, 403,
			`{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_api"}`},
		{"no token", "", `{"name":"x","scopes":["k8s_proxy"]}`, 401, `{"message":"401 Unauthorized"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.send(bearer(http.MethodPost, path, tc.token, tc.body)), tc.status, tc.want)
		})
	}
	t.Run("the longest lifetime is allowed", func(t *testing.T) {
		expectStatus(t, e.post(path, tokMaintainer, `{"name":"x","scopes":["k8s_proxy"],"expires_at":"2027-03-14"}`), http.StatusCreated)
	})
	t.Run("not permitted", func(t *testing.T) {
		settings := e.srv.Settings()
		settings.PersonalAccessTokensRestricted = true
		if err := e.srv.SetSettings(settings); err != nil {
			t.Fatal(err)
		}
		defer func() {
			settings.PersonalAccessTokensRestricted = false
			_ = e.srv.SetSettings(settings)
		}()
		expect(t, e.post(path, tokMaintainer, `{"name":"x","scopes":["k8s_proxy"]}`), 422, `{"message":"Not permitted to create"}`)
	})
	t.Run("the control endpoint restricts them too", func(t *testing.T) {
		expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"personal_access_tokens_restricted":true}`}), http.StatusOK)
		expect(t, e.post(path, tokMaintainer, `{"name":"x","scopes":["k8s_proxy"]}`), 422, `{"message":"Not permitted to create"}`)
		expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"personal_access_tokens_restricted":false}`}), http.StatusOK)
		expectStatus(t, e.post(path, tokMaintainer, `{"name":"x","scopes":["k8s_proxy"]}`), http.StatusCreated)
	})
	t.Run("GitLab before 16.5 has no such route", func(t *testing.T) {
		e := newEnvWithSeed(t, func() Seed { s := DefaultSeed(); s.Settings.GitLabVersion = "16.4.0"; return s }())
		expect(t, e.post(path, tokMaintainer, `{"name":"x","scopes":["k8s_proxy"]}`), 404, `{"error":"404 Not Found"}`)
	})
}

func TestPersonalAccessTokenSelfRevoke(t *testing.T) {
	e := newEnv(t)
	pat := e.mintPAT(`{"name":"kubectl","scopes":["k8s_proxy"]}`)
	self := "/personal_access_tokens/self"

	expectStatus(t, e.send(bearer(http.MethodDelete, self, pat.Token, "")), http.StatusNoContent)
	if got := e.srv.PersonalAccessTokens()[0].State; got != "revoked" {
		t.Fatalf("state after self-revocation %q", got)
	}
	// Once revoked, the token fails authentication, before anything else.
	expect(t, e.send(bearer(http.MethodDelete, self, pat.Token, "")), http.StatusUnauthorized,
		`{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}`)
	// The maintainer's own token is untouched.
	expectStatus(t, e.get("/user", tokMaintainer), http.StatusOK)

	t.Run("expired", func(t *testing.T) {
		pat := e.mintPAT(`{"name":"kubectl","scopes":["k8s_proxy"]}`)
		e.srv.SetNow(fixedClock(time.Now().Add(48 * time.Hour)))
		defer e.srv.SetNow(nil)
		expect(t, e.send(bearer(http.MethodDelete, self, pat.Token, "")), http.StatusUnauthorized,
			`{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}`)
	})
	t.Run("a read_api token may revoke itself", func(t *testing.T) {
		expectStatus(t, e.send(bearer(http.MethodDelete, self, DefaultReadAPIToken, "")), http.StatusNoContent)
		expectStatus(t, e.get("/user", DefaultReadAPIToken), http.StatusUnauthorized)
	})
	t.Run("unknown token", func(t *testing.T) {
		expect(t, e.send(bearer(http.MethodDelete, self, "glpat-nope", "")), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
	})
	t.Run("only DELETE", func(t *testing.T) {
		expect(t, e.send(bearer(http.MethodGet, self, tokMaintainer, "")), http.StatusNotFound, `{"error":"404 Not Found"}`)
	})
	t.Run("revoked out of band", func(t *testing.T) {
		pat := e.mintPAT(`{"name":"kubectl","scopes":["k8s_proxy"]}`)
		if err := e.srv.RevokePersonalAccessToken(pat.ID); err != nil {
			t.Fatal(err)
		}
		expectStatus(t, e.send(bearer(http.MethodDelete, self, pat.Token, "")), http.StatusUnauthorized)
		if err := e.srv.RevokePersonalAccessToken(999); err == nil {
			t.Fatal("revoking an unknown token succeeded")
		}
	})
}
