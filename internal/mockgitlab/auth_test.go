package mockgitlab

import (
	"net/http"
	"testing"
)

func TestAuthCredentialForms(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		c    call
	}{
		{"PRIVATE-TOKEN header", call{header: map[string]string{"PRIVATE-TOKEN": tokMaintainer}}},
		{"lower-case private-token header", call{header: map[string]string{"private-token": tokMaintainer}}},
		{"Private-Token header", call{header: map[string]string{"Private-Token": tokMaintainer}}},
		{"private_token query", call{path: "/user?private_token=" + tokMaintainer}},
		{"Authorization Bearer", call{header: map[string]string{"Authorization": "Bearer " + tokMaintainer}}},
		{"Authorization bearer lower-case scheme", call{header: map[string]string{"Authorization": "bearer " + tokMaintainer}}},
		{"access_token query", call{path: "/user?access_token=" + tokMaintainer}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.method = http.MethodGet
			if c.path == "" {
				c.path = "/user"
			}
			r := e.send(c)
			expect(t, r, 200, `{"id":2,"username":"maintainer","name":"Maintainer","state":"active","is_admin":false}`)
		})
	}
	t.Run("access_token in a form body", func(t *testing.T) {
		r := e.send(call{method: http.MethodPost, path: "/projects/20/cluster_agents", body: "name=formed&access_token=" + tokMaintainer,
			contentType: "application/x-www-form-urlencoded"})
		expectStatus(t, r, 201)
	})
	t.Run("admin", func(t *testing.T) {
		expect(t, e.get("/user", tokRoot), 200, `{"id":1,"username":"root","name":"Administrator","state":"active","is_admin":true}`)
	})
}

func TestAuthFailures(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		c    call
	}{
		{"no credential", call{path: "/user"}},
		{"unknown token header", call{path: "/user", token: "glpat-nope"}},
		{"unknown private_token", call{path: "/user?private_token=nope"}},
		{"empty bearer", call{path: "/user", header: map[string]string{"Authorization": "Bearer "}}},
		{"unknown bearer", call{path: "/user", header: map[string]string{"Authorization": "Bearer nope"}}},
		{"basic auth is not a token", call{path: "/user", header: map[string]string{"Authorization": "Basic " + tokRoot}}},
		{"project endpoint", call{path: "/projects/20"}},
		{"agents list", call{path: "/projects/20/cluster_agents"}},
		// Authentication runs before parameter validation: no name and no token gives 401, not 400.
		{"POST without name", call{method: http.MethodPost, path: "/projects/20/cluster_agents", body: `{}`}},
		{"URL configurations", call{path: "/projects/20/cluster_agents/1/url_configurations"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if c.method == "" {
				c.method = http.MethodGet
			}
			expect(t, e.send(c), 401, `{"message":"401 Unauthorized"}`)
		})
	}
}
