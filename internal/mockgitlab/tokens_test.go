package mockgitlab

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var secretRegexp = regexp.MustCompile(`^glagent-[A-Za-z0-9_-]{50}$`)

func TestTokenCreateShapes(t *testing.T) {
	e := newEnv(t)
	created := time.Date(2024, 6, 1, 8, 30, 0, 42e6, time.UTC)
	e.srv.SetNow(fixedClock(created))
	a := e.mustAgent(20, "agent-1")
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/tokens", a.ID)

	r := e.post(base, tokMaintainer, `{"name":"first"}`)
	expectStatus(t, r, 201)
	expectKeys(t, r.body, "id", "name", "description", "agent_id", "status", "created_at", "created_by_user_id", "last_used_at", "token")
	tok := decode[map[string]any](t, r)
	secret, _ := tok["token"].(string)
	if !secretRegexp.MatchString(secret) {
		t.Fatalf("secret %q does not match %s", secret, secretRegexp)
	}
	if strings.ContainsAny(strings.TrimPrefix(secret, "glagent-"), "lIO0") {
		t.Fatalf("secret %q contains a confusable character", secret)
	}
	wantPrefix := fmt.Sprintf(`{"id":1,"name":"first","description":null,"agent_id":%d,"status":"active","created_at":"2024-06-01T08:30:00.042Z","created_by_user_id":2,"last_used_at":null,"token":"`, a.ID)
	if !strings.HasPrefix(r.body, wantPrefix) {
		t.Fatalf("body = %s\nwant prefix %s", r.body, wantPrefix)
	}

	r = e.post(base, tokMaintainer, `{"name":"second","description":"Some token","ignored":"x"}`)
	expectStatus(t, r, 201)
	second := decode[map[string]any](t, r)
	if second["description"] != "Some token" || second["token"] == secret {
		t.Fatalf("second token = %s", r.body)
	}

	// The secret is never shown again.
	r = e.get(base+"/1", tokDeveloper)
	expect(t, r, 200, fmt.Sprintf(`{"id":1,"name":"first","description":null,"agent_id":%d,"status":"active","created_at":"2024-06-01T08:30:00.042Z","created_by_user_id":2,"last_used_at":null}`, a.ID))
	r = e.get(base, tokDeveloper)
	expectStatus(t, r, 200)
	if strings.Contains(r.body, "glagent-") || strings.Contains(r.body, "last_used_at") {
		t.Fatalf("list shows secret or last_used_at: %s", r.body)
	}
	for _, item := range decode[[]map[string]any](t, r) {
		if len(item) != 7 {
			t.Fatalf("list item keys: %v", item)
		}
	}
	// The Go API can see it for assertions.
	if info, ok := e.srv.Token(1); !ok || info.Token != secret || info.Status != "active" || info.Description != "" {
		t.Fatalf("Token(1) = %+v", info)
	}
}

func TestTokenValidation(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/tokens", a.ID)
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"missing name", `{"description":"x"}`, 400, `{"error":"name is missing"}`},
		{"empty name", `{"name":""}`, 400, `{"message":"400 Bad request - [\"Name can't be blank\"]"}`},
		{"blank name", `{"name":"   "}`, 400, `{"message":"400 Bad request - [\"Name can't be blank\"]"}`},
		{"name too long", `{"name":"` + strings.Repeat("n", 256) + `"}`, 400, `{"message":"400 Bad request - [\"Name is too long (maximum is 255 characters)\"]"}`},
		{"description too long", `{"name":"ok","description":"` + strings.Repeat("d", 1025) + `"}`, 400,
			`{"message":"400 Bad request - [\"Description is too long (maximum is 1024 characters)\"]"}`},
		{"both", `{"name":"","description":"` + strings.Repeat("d", 1025) + `"}`, 400,
			`{"message":"400 Bad request - [\"Description is too long (maximum is 1024 characters)\", \"Name can't be blank\"]"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.post(base, tokMaintainer, tc.body), tc.status, tc.want)
		})
	}
	if n := len(e.srv.ActiveTokens(a.ID)); n != 0 {
		t.Fatalf("%d tokens created by invalid requests", n)
	}
	expectStatus(t, e.post(base, tokMaintainer, `{"name":"`+strings.Repeat("n", 255)+`","description":"`+strings.Repeat("d", 1024)+`"}`), 201)
	expect(t, e.post("/projects/20/cluster_agents/999/tokens", tokMaintainer, `{"name":"x"}`), 404, `{"message":"404 Not found"}`)
	expect(t, e.post("/projects/20/cluster_agents/abc/tokens", tokMaintainer, `{}`), 400, `{"error":"agent_id is invalid, name is missing"}`)
}

func TestTokenLimit(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/tokens", a.ID)
	expectStatus(t, e.post(base, tokMaintainer, `{"name":"one"}`), 201)
	expectStatus(t, e.post(base, tokMaintainer, `{"name":"two"}`), 201)
	const limit = `{"message":"400 Bad request - An agent can have only two active tokens at a time"}`
	expect(t, e.post(base, tokMaintainer, `{"name":"three"}`), 400, limit)
	// The limit is checked before validation.
	expect(t, e.post(base, tokMaintainer, `{"name":""}`), 400, limit)
	if n := len(e.srv.ActiveTokens(a.ID)); n != 2 {
		t.Fatalf("%d active tokens", n)
	}
	if _, ok := e.srv.Token(3); ok {
		t.Fatal("a third token exists")
	}
	if _, err := e.srv.CreateToken(a.ID, "oob", "", 2); !errors.Is(err, ErrTokenLimit) {
		t.Fatalf("CreateToken over the limit = %v", err)
	}
	// Revoking frees a slot.
	expect(t, e.del(base+"/1", tokMaintainer), 204, "")
	r := e.post(base, tokMaintainer, `{"name":"three"}`)
	expectStatus(t, r, 201)
	if id := decode[map[string]any](t, r)["id"]; id != float64(3) {
		t.Fatalf("new token id = %v, want 3", id)
	}
}

func TestTokenRevoke(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	other := e.mustAgent(20, "agent-2")
	tk, err := e.srv.CreateToken(a.ID, "one", "desc", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !secretRegexp.MatchString(tk.Token) || tk.Description != "desc" {
		t.Fatalf("CreateToken = %+v", tk)
	}
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/tokens", a.ID)
	tokenPath := fmt.Sprintf("%s/%d", base, tk.ID)

	// Wrong agent, unknown token.
	expect(t, e.del(fmt.Sprintf("/projects/20/cluster_agents/%d/tokens/%d", other.ID, tk.ID), tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.get(fmt.Sprintf("/projects/20/cluster_agents/%d/tokens/%d", other.ID, tk.ID), tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.del(base+"/999", tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.get(base+"/abc", tokMaintainer), 400, `{"error":"token_id is invalid"}`)

	expect(t, e.del(tokenPath, tokMaintainer), 204, "")
	expect(t, e.del(tokenPath, tokMaintainer), 204, "") // idempotent
	expect(t, e.get(tokenPath, tokDeveloper), 404, `{"message":"404 Not found"}`)
	expect(t, e.get(base, tokDeveloper), 200, "[]")
	if info, ok := e.srv.Token(tk.ID); !ok || info.Status != "revoked" {
		t.Fatalf("Token = %+v, %v", info, ok)
	}

	e.srv.SetLegacyRevokedTokenGet(true)
	r := e.get(tokenPath, tokDeveloper)
	expectStatus(t, r, 200)
	if got := decode[map[string]any](t, r)["status"]; got != "revoked" {
		t.Fatalf("legacy GET status = %v", got)
	}
	expect(t, e.get(base, tokDeveloper), 200, "[]")

	if err := e.srv.RevokeToken(999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RevokeToken(999) = %v", err)
	}
}

func TestTokenOrderingAndUsage(t *testing.T) {
	e := newEnv(t)
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	e.srv.SetNow(fixedClock(created))
	a := e.mustAgent(20, "agent-1")
	t1, _ := e.srv.CreateToken(a.ID, "one", "", 2)
	t2, _ := e.srv.CreateToken(a.ID, "two", "", 2)
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/tokens", a.ID)
	order := func() string {
		var ids []string
		for _, tk := range decode[[]map[string]any](t, e.get(base, tokDeveloper)) {
			ids = append(ids, fmt.Sprint(tk["id"]))
		}
		return strings.Join(ids, ",")
	}
	want := func(s string) {
		t.Helper()
		if got := order(); got != s {
			t.Fatalf("order = %s, want %s", got, s)
		}
		var goIDs []string
		for _, tk := range e.srv.ActiveTokens(a.ID) {
			goIDs = append(goIDs, fmt.Sprint(tk.ID))
		}
		if strings.Join(goIDs, ",") != s {
			t.Fatalf("ActiveTokens order = %v, want %s", goIDs, s)
		}
	}
	want(fmt.Sprintf("%d,%d", t1.ID, t2.ID)) // both null: id order
	used := time.Date(2024, 2, 3, 4, 5, 6, 789e6, time.UTC)
	if err := e.srv.MarkTokenUsed(t2.ID, used); err != nil {
		t.Fatal(err)
	}
	want(fmt.Sprintf("%d,%d", t2.ID, t1.ID)) // used first, nulls last
	if err := e.srv.MarkTokenUsed(t1.ID, used.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	want(fmt.Sprintf("%d,%d", t1.ID, t2.ID)) // most recent first

	r := e.get(fmt.Sprintf("%s/%d", base, t2.ID), tokDeveloper)
	if got := decode[map[string]any](t, r)["last_used_at"]; got != "2024-02-03T04:05:06.789Z" {
		t.Fatalf("last_used_at = %v", got)
	}
	if err := e.srv.AgeToken(t2.ID, 720*time.Hour); err != nil {
		t.Fatal(err)
	}
	r = e.get(fmt.Sprintf("%s/%d", base, t2.ID), tokDeveloper)
	if got := decode[map[string]any](t, r)["created_at"]; got != "2023-12-02T00:00:00.000Z" {
		t.Fatalf("aged created_at = %v", got)
	}
	if err := e.srv.MarkTokenUsed(999, used); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MarkTokenUsed(999) = %v", err)
	}
}
