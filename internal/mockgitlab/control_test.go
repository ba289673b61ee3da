package mockgitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestControlRequests(t *testing.T) {
	e := newEnv(t)
	before := time.Now()
	e.get("/projects/20?x=1", tokMaintainer)
	r := e.get("/-/mock/requests", "")
	var logged []LoggedRequest
	if err := json.Unmarshal([]byte(r.body), &logged); err != nil || len(logged) != 1 {
		t.Fatalf("request log %s: %v", r.body, err)
	}
	if at := logged[0].At; at.Before(before) || at.After(time.Now()) {
		t.Errorf("logged at %v, want between %v and now", at, before)
	}
	at, _ := logged[0].At.MarshalJSON()
	expect(t, r, 200, `[{"method":"GET","path":"/api/v4/projects/20","query":"x=1","status":200,"at":`+string(at)+`}]`)
	if r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("Content-Type = %q", r.header.Get("Content-Type"))
	}
	expect(t, e.del("/-/mock/requests", ""), 204, "")
	expect(t, e.get("/-/mock/requests", ""), 200, `[]`)
}

func TestControlTokens(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	e.srv.SetNow(fixedClock(now))
	a := e.mustAgent(20, "agent-1")
	tk, _ := e.srv.CreateToken(a.ID, "one", "", 2)
	p := fmt.Sprintf("/-/mock/tokens/%d", tk.ID)

	r := e.post(p+"/use", "", `{"at":"2024-04-02T03:04:05.678Z"}`)
	expectStatus(t, r, 200)
	if info := decode[map[string]any](t, r); info["token"] != nil || info["last_used_at"] != "2024-04-02T03:04:05.678Z" {
		t.Fatalf("use response = %s", r.body)
	}
	info, _ := e.srv.Token(tk.ID)
	if info.LastUsedAt == nil || !info.LastUsedAt.Equal(time.Date(2024, 4, 2, 3, 4, 5, 678e6, time.UTC)) {
		t.Fatalf("LastUsedAt = %v", info.LastUsedAt)
	}
	expectStatus(t, e.send(call{method: http.MethodPost, path: p + "/use"}), 200) // default: now
	if info, _ := e.srv.Token(tk.ID); !info.LastUsedAt.Equal(now) {
		t.Fatalf("LastUsedAt = %v, want %v", info.LastUsedAt, now)
	}

	expectStatus(t, e.post(p+"/age", "", `{"duration":"720h"}`), 200)
	if info, _ := e.srv.Token(tk.ID); !info.CreatedAt.Equal(now.Add(-720 * time.Hour)) {
		t.Fatalf("CreatedAt = %v", info.CreatedAt)
	}
	expectStatus(t, e.post(p+"/age", "", `{"duration":"soon"}`), 400)
	expectStatus(t, e.post(p+"/age", "", `{"duration":"1h","extra":1}`), 400)

	expectStatus(t, e.send(call{method: http.MethodPost, path: p + "/revoke"}), 200)
	if info, _ := e.srv.Token(tk.ID); info.Status != "revoked" {
		t.Fatalf("Status = %s", info.Status)
	}
	expectStatus(t, e.send(call{method: http.MethodPost, path: "/-/mock/tokens/999/revoke"}), 404)
	expectStatus(t, e.send(call{method: http.MethodGet, path: p + "/revoke"}), 405)
}

func TestControlAgentsSettingsFaults(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	expect(t, e.del(fmt.Sprintf("/-/mock/agents/%d", a.ID), ""), 204, "")
	if _, ok := e.srv.Agent(a.ID); ok {
		t.Fatal("agent not deleted")
	}
	expectStatus(t, e.del(fmt.Sprintf("/-/mock/agents/%d", a.ID), ""), 404)

	b := e.mustAgent(20, "agent-2")
	cfgPath := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", b.ID)
	r := e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"receptive_agents":false}`})
	expect(t, r, 200, `{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":false,"licence":"ultimate","rate_limit":null,"rate_limit_headers_always":false,"receptive_agents":false}`)
	expect(t, e.get(cfgPath, tokMaintainer), 404, `{"message":"404 Not Found"}`)
	r = e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"legacy_revoked_token_get":true}`})
	expect(t, r, 200, `{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":true,"licence":"ultimate","rate_limit":null,"rate_limit_headers_always":false,"receptive_agents":false}`)
	expect(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"receptive_agents":true}`}), 200,
		`{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":true,"licence":"ultimate","rate_limit":null,"rate_limit_headers_always":false,"receptive_agents":true}`)
	expectStatus(t, e.get(cfgPath, tokMaintainer), 200)
	expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"receptive":true}`}), 400)

	r = e.post("/-/mock/faults", "", `{"method":"GET","pattern":"/api/v4/user","status":429,"count":2,"after_commit":false,"headers":{"Retry-After":"7"}}`)
	expectStatus(t, r, 201)
	for range 2 {
		r = e.get("/user", tokRoot)
		if r.status != 429 || r.header.Get("Retry-After") != "7" {
			t.Fatalf("got %d %v", r.status, r.header)
		}
	}
	expectStatus(t, e.get("/user", tokRoot), 200)
	expectStatus(t, e.post("/-/mock/faults", "", `{"status":500,"count":3}`), 201)
	expect(t, e.del("/-/mock/faults", ""), 204, "")
	expectStatus(t, e.get("/user", tokRoot), 200)
	expectStatus(t, e.post("/-/mock/faults", "", `{"status":0}`), 400)
	expectStatus(t, e.post("/-/mock/faults", "", `{"status":500,"colour":"red"}`), 400)

	r = e.get("/-/mock/nothing", "")
	expect(t, r, 404, `{"error":"unknown mock control endpoint"}`)
	if r.header.Get("Content-Type") != "application/json" {
		t.Fatal("control 404 is not JSON")
	}
	// Control requests are not logged.
	var apiPaths []string
	for _, lr := range e.srv.Requests() {
		apiPaths = append(apiPaths, lr.Path)
	}
	want := []string{"/api/v4/projects/20/cluster_agents/2/url_configurations", "/api/v4/projects/20/cluster_agents/2/url_configurations",
		"/api/v4/user", "/api/v4/user", "/api/v4/user", "/api/v4/user"}
	if !reflect.DeepEqual(apiPaths, want) {
		t.Fatalf("logged = %v", apiPaths)
	}
}
