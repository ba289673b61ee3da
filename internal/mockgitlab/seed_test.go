package mockgitlab

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestDefaultSeedRoundTrip(t *testing.T) {
	data, err := json.Marshal(DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	seed, err := ParseSeed(data)
	if err != nil {
		t.Fatalf("ParseSeed(DefaultSeed): %v", err)
	}
	if !reflect.DeepEqual(seed, DefaultSeed()) {
		t.Fatalf("round trip changed the seed: %+v", seed)
	}
	if len(seed.Users) != 5 || len(seed.Projects) != 2 || !seed.Settings.ReceptiveAgents {
		t.Fatalf("default seed = %+v", seed)
	}
	if seed.Projects[1].Members["maintainer"] != "owner" {
		t.Fatalf("project 21 members = %v", seed.Projects[1].Members)
	}
}

func TestParseSeedErrors(t *testing.T) {
	cases := map[string]string{
		"unknown field":        `{"users":[],"projects":[],"settings":{},"extra":1}`,
		"unknown nested field": `{"users":[{"id":1,"username":"a","tokens":[],"email":"x"}]}`,
		"trailing data":        `{"users":[]} {}`,
		"bad role":             `{"users":[{"id":1,"username":"a"}],"projects":[{"id":1,"path_with_namespace":"g/p","members":{"a":"admin"}}]}`,
		"unknown member":       `{"users":[{"id":1,"username":"a"}],"projects":[{"id":1,"path_with_namespace":"g/p","members":{"b":"guest"}}]}`,
		"duplicate user id":    `{"users":[{"id":1,"username":"a"},{"id":1,"username":"b"}]}`,
		"duplicate username":   `{"users":[{"id":1,"username":"a"},{"id":2,"username":"A"}]}`,
		"duplicate token":      `{"users":[{"id":1,"username":"a","tokens":["t"]},{"id":2,"username":"b","tokens":["t"]}]}`,
		"zero user id":         `{"users":[{"id":0,"username":"a"}]}`,
		"duplicate project id": `{"projects":[{"id":1,"path_with_namespace":"g/a"},{"id":1,"path_with_namespace":"g/b"}]}`,
		"duplicate path":       `{"projects":[{"id":1,"path_with_namespace":"g/a"},{"id":2,"path_with_namespace":"G/A"}]}`,
		"no namespace":         `{"projects":[{"id":1,"path_with_namespace":"a"}]}`,
		"empty segment":        `{"projects":[{"id":1,"path_with_namespace":"g//a"}]}`,
		"negative project id":  `{"projects":[{"id":-1,"path_with_namespace":"g/a"}]}`,
		"not JSON":             `users: []`,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSeed([]byte(data)); err == nil {
				t.Fatal("ParseSeed accepted an invalid seed")
			}
		})
	}
	if _, err := New(Seed{Projects: []SeedProject{{ID: 1, PathWithNamespace: "nope"}}}); err == nil {
		t.Fatal("New accepted an invalid seed")
	}
}

func TestSeedDefaultsAndRuntimeUsers(t *testing.T) {
	seed, err := ParseSeed([]byte(`{"users":[{"id":7,"username":"alice","tokens":["tok-alice"]}],
		"projects":[{"id":3,"path_with_namespace":"grp/sub/app","members":{"alice":"developer"}}],"settings":{"receptive_agents":false}}`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWithSeed(t, seed)
	p := decode[map[string]any](t, e.get("/projects/grp%2Fsub%2Fapp", "tok-alice"))
	if p["name"] != "app" || p["name_with_namespace"] != "grp / sub / app" {
		t.Fatalf("project = %v", p)
	}
	expectStatus(t, e.get("/projects/3/cluster_agents", "tok-alice"), 200)
	expect(t, e.post("/projects/3/cluster_agents", "tok-alice", `{"name":"x"}`), 403, `{"message":"403 Forbidden"}`)

	if err := e.srv.AddUser(SeedUser{ID: 8, Username: "bob", Tokens: []string{"tok-bob"}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []SeedUser{
		{ID: 8, Username: "carol"},
		{ID: 9, Username: "BOB"},
		{ID: 9, Username: "carol", Tokens: []string{"tok-alice"}},
	} {
		if err := e.srv.AddUser(bad); err == nil {
			t.Fatalf("AddUser(%+v) succeeded", bad)
		}
	}
	expect(t, e.get("/projects/3", "tok-bob"), 404, `{"message":"404 Project Not Found"}`)
	if err := e.srv.SetMember(3, "bob", "maintainer"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.post("/projects/3/cluster_agents", "tok-bob", `{"name":"by-bob"}`), 201)
	if err := e.srv.SetMember(3, "bob", ""); err != nil {
		t.Fatal(err)
	}
	expect(t, e.get("/projects/3", "tok-bob"), 404, `{"message":"404 Project Not Found"}`)
	if err := e.srv.SetMember(3, "bob", "boss"); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Fatalf("SetMember bad role = %v", err)
	}
	if err := e.srv.SetMember(3, "nobody", "guest"); err == nil {
		t.Fatal("SetMember unknown user succeeded")
	}
	// Receptive agents were disabled by the seed.
	a := e.srv.Agents(3)[0]
	expect(t, e.get("/projects/3/cluster_agents/"+strconv.FormatInt(a.ID, 10)+"/url_configurations", "tok-alice"), 404, `{"message":"404 Not Found"}`)
}
