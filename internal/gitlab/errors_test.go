package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// call is one public method of the client, called on project "root/test"
// (agent 42) unless said otherwise.
type call struct {
	name string
	do   func(ctx context.Context, c *Client) error
}

var (
	callGetAgent = call{"GetAgent", func(ctx context.Context, c *Client) error {
		_, err := c.GetAgent(ctx, "root/test", 42)
		return err
	}}
	callListAgents = call{"ListAgents", func(ctx context.Context, c *Client) error {
		_, err := c.ListAgents(ctx, "root/test")
		return err
	}}
	callRegisterAgent = call{"RegisterAgent", func(ctx context.Context, c *Client) error {
		_, _, err := c.RegisterAgent(ctx, "root/test", "agent-1")
		return err
	}}
	callDeleteAgent = call{"DeleteAgent", func(ctx context.Context, c *Client) error {
		return c.DeleteAgent(ctx, "root/test", 42)
	}}
	callProjectID = call{"ProjectID", func(ctx context.Context, c *Client) error {
		_, err := c.ProjectID(ctx, "group/sub.group/missing")
		return err
	}}
	callCheckAuth = call{"CheckAuth", func(ctx context.Context, c *Client) error {
		return c.CheckAuth(ctx)
	}}
)

func TestErrorsExplained(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		calls      []call
		status     int
		body       string
		want       []string // in Detail
		wantNot    []string // not in Detail
		wantMsg    string   // GitLabMessage
		wantSummry string   // in Summary
	}{
		{
			name:    "401 unauthorized",
			calls:   []call{callGetAgent, callListAgents, callRegisterAgent, callDeleteAgent, callProjectID, callCheckAuth},
			status:  401,
			body:    `{"message":"401 Unauthorized"}`,
			want:    []string{"[check token]", "401"},
			wantMsg: "401 Unauthorized",
		},
		{
			name:    "401 expired token",
			calls:   []call{callGetAgent, callCheckAuth},
			status:  401,
			body:    `{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}`,
			want:    []string{"it has expired", "Create a new token", "[check token]", "Token is expired"},
			wantNot: []string{"mistyped"},
			wantMsg: "invalid_token: Token is expired. You can either do re-authorization or token refresh.",
		},
		{
			name:    "401 revoked token",
			calls:   []call{callRegisterAgent, callListAgents},
			status:  401,
			body:    `{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}`,
			want:    []string{"it was revoked", "create a new token", "[check token]", "Token was revoked"},
			wantNot: []string{"mistyped"},
			wantMsg: "invalid_token: Token was revoked. You have to re-authorize from the user.",
		},
		{
			name:    "403 forbidden",
			calls:   []call{callRegisterAgent, callDeleteAgent, callGetAgent},
			status:  403,
			body:    `{"message":"403 Forbidden"}`,
			want:    []string{"Maintainer", `project "root/test"`, "403 Forbidden"},
			wantMsg: "403 Forbidden",
		},
		{
			name:    "403 insufficient scope",
			calls:   []call{callRegisterAgent, callDeleteAgent},
			status:  403,
			body:    `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api"}`,
			want:    []string{"`api` scope", "read_api", "insufficient_scope", "[check token]", "[kind read-only token]"},
			wantNot: []string{"Maintainer"},
		},
		{
			name:    "404 project not found",
			calls:   []call{callGetAgent, callListAgents, callRegisterAgent},
			status:  404,
			body:    `{"message":"404 Project Not Found"}`,
			want:    []string{`"root/test"`, "[check project]", "404 Project Not Found", "[kind project not found]"},
			wantMsg: "404 Project Not Found",
		},
		{
			name:    "404 project not found by path lookup",
			calls:   []call{callProjectID},
			status:  404,
			body:    `{"message":"404 Project Not Found"}`,
			want:    []string{`"group/sub.group/missing"`, "[check project]"},
			wantMsg: "404 Project Not Found",
		},
		{
			name:    "404 cluster agents not found",
			calls:   []call{callListAgents},
			status:  404,
			body:    `{"message":"404 ClusterAgents Not Found"}`,
			want:    []string{"Developer", `"root/test"`},
			wantMsg: "404 ClusterAgents Not Found",
		},
		{
			name:    "404 unknown route",
			calls:   []call{callGetAgent, callListAgents, callRegisterAgent, callProjectID, callCheckAuth},
			status:  404,
			body:    `{"error":"404 Not Found"}`,
			want:    []string{"[check url]", "endpoint"},
			wantMsg: "404 Not Found",
		},
		{
			name:    "405 moved project",
			calls:   []call{callRegisterAgent, callDeleteAgent},
			status:  405,
			body:    `{"message":"Non GET methods are not allowed for moved projects"}`,
			want:    []string{"renamed or moved", `"root/test"`, "[check project]"},
			wantMsg: "Non GET methods are not allowed for moved projects",
		},
		{
			name:    "400 validation",
			calls:   []call{callRegisterAgent},
			status:  400,
			body:    `{"message":"400 Bad request - [\"Name has already been taken\"]"}`,
			want:    []string{"Name has already been taken"},
			wantNot: []string{"[", "]", `\"`, "400 Bad request"},
			wantMsg: `400 Bad request - ["Name has already been taken"]`,
		},
		{
			name:    "400 several validation messages",
			calls:   []call{callRegisterAgent},
			status:  400,
			body:    `{"message":"400 Bad request - [\"Name is too long (maximum is 63 characters)\", \"Name can contain only lowercase letters, digits, and '-', but cannot start or end with '-'\"]"}`,
			want:    []string{"Name is too long (maximum is 63 characters); Name can contain only lowercase letters, digits, and '-', but cannot start or end with '-'"},
			wantNot: []string{"[", "]"},
		},
		{
			name:    "400 single service message",
			calls:   []call{callRegisterAgent},
			status:  400,
			body:    `{"message":"400 Bad request - An agent can have only two active tokens at a time"}`,
			want:    []string{"An agent can have only two active tokens at a time"},
			wantNot: []string{"400 Bad request"},
		},
		{
			name:    "400 grape parameter",
			calls:   []call{callRegisterAgent},
			status:  400,
			body:    `{"error":"name is missing"}`,
			want:    []string{"name is missing"},
			wantMsg: "name is missing",
		},
		{
			name:    "400 without body",
			calls:   []call{callRegisterAgent},
			status:  400,
			body:    ``,
			want:    []string{"no reason given"},
			wantMsg: "",
		},
		{
			name:    "412 precondition failed",
			calls:   []call{callDeleteAgent},
			status:  412,
			body:    `{"message":"412 Precondition Failed"}`,
			want:    []string{"412", "412 Precondition Failed"},
			wantMsg: "412 Precondition Failed",
		},
		{
			name:    "500",
			calls:   []call{callGetAgent, callRegisterAgent},
			status:  500,
			body:    `{"message":"500 Internal Server Error"}`,
			want:    []string{"500", "Run again"},
			wantMsg: "500 Internal Server Error",
		},
	}
	for _, tc := range cases {
		for _, cl := range tc.calls {
			t.Run(tc.name+"/"+cl.name, func(t *testing.T) {
				t.Parallel()
				srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, tc.status, tc.body)
				}))
				c := newTestClient(t, srv.URL, 0)
				err := cl.do(context.Background(), c)
				e := asError(t, err)
				if e.Status != tc.status {
					t.Errorf("Status = %d, want %d", e.Status, tc.status)
				}
				if StatusCode(err) != tc.status {
					t.Errorf("StatusCode = %d, want %d", StatusCode(err), tc.status)
				}
				// Only GitLab's 404 for the record itself means "the object is gone";
				// none of these is: not a missing project, a hidden list or an unknown route.
				if IsNotFound(err) {
					t.Errorf("IsNotFound = true for status %d", tc.status)
				}
				assertContains(t, "Detail", described(e), tc.want...)
				assertNotContains(t, "Detail", e.Detail, tc.wantNot...)
				assertNotContains(t, "Detail", e.Detail, testToken)
				if tc.wantMsg != "" || tc.body == "" {
					if e.GitLabMessage != tc.wantMsg {
						t.Errorf("GitLabMessage = %q, want %q", e.GitLabMessage, tc.wantMsg)
					}
					if Message(err) != tc.wantMsg {
						t.Errorf("Message = %q, want %q", Message(err), tc.wantMsg)
					}
				}
				if !strings.HasPrefix(e.Summary, "Failed to ") {
					t.Errorf("Summary = %q", e.Summary)
				}
				if e.Error() != e.Summary+": "+e.Detail {
					t.Errorf("Error() = %q", e.Error())
				}
				if errors.Unwrap(err) == nil {
					t.Error("Unwrap() is nil: the client-go error is lost")
				}
			})
		}
	}
}

func TestGetAgentNotFoundNamesAgent(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/cluster_agents") {
			writeJSON(w, http.StatusOK, `[]`) // the caller may list the project's agents
			return
		}
		writeJSON(w, http.StatusNotFound, `{"message":"404 Not found"}`)
	}))
	c := newTestClient(t, srv.URL, 3)
	_, err := c.GetAgent(context.Background(), "root/test", 42)
	e := asError(t, err)
	if e.Status != 404 || !IsNotFound(err) || StatusCode(err) != 404 {
		t.Errorf("Status = %d, IsNotFound = %v", e.Status, IsNotFound(err))
	}
	assertContains(t, "Summary", e.Summary, "read agent 42")
	assertContains(t, "Detail", strings.ToLower(e.Detail), "agent 42")
	assertContains(t, "Detail", e.Detail, `project "root/test"`, "does not exist", "404 Not found")
	assertNotContains(t, "Detail", described(e), "[check url]", "Project Not Found")
	if Message(err) != "404 Not found" {
		t.Errorf("Message = %q, want %q", Message(err), "404 Not found")
	}
	// client-go's sentinel is still reachable.
	if !errors.Is(err, gl.ErrNotFound) {
		t.Error("errors.Is(err, gitlab.ErrNotFound) is false")
	}
	// Wrapping keeps the helpers working.
	wrapped := fmt.Errorf("reading: %w", err)
	if !IsNotFound(wrapped) || StatusCode(wrapped) != 404 || Message(wrapped) != "404 Not found" {
		t.Errorf("helpers fail on a wrapped error: %v %v %q", IsNotFound(wrapped), StatusCode(wrapped), Message(wrapped))
	}
}

func TestErrorHelpers(t *testing.T) {
	t.Parallel()
	if IsNotFound(nil) || StatusCode(nil) != 0 || Message(nil) != "" {
		t.Error("helpers on nil")
	}
	plain := errors.New("boom")
	if IsNotFound(plain) || StatusCode(plain) != 0 || Message(plain) != "" {
		t.Error("helpers on a plain error")
	}
	er := &gl.ErrorResponse{StatusCode: http.StatusConflict, Message: "conflict"}
	if StatusCode(er) != http.StatusConflict || IsNotFound(er) {
		t.Errorf("StatusCode(ErrorResponse 409) = %d", StatusCode(er))
	}
	// client-go's bare 404 carries no word from GitLab on what is missing.
	if IsNotFound(gl.ErrNotFound) {
		t.Error("IsNotFound(gitlab.ErrNotFound) is true")
	}
	e := &Error{Status: 404, GitLabMessage: "404 Not found", Summary: "S", Detail: "D", gone: true, err: gl.ErrNotFound}
	if !IsNotFound(e) || Message(e) != "404 Not found" || e.Error() != "S: D" || !errors.Is(e.Unwrap(), gl.ErrNotFound) {
		t.Error("helpers on *Error")
	}
	if explain(nil, nil, "do", Target{}) != nil {
		t.Error("explain(nil) is not nil")
	}
}

func TestTargetString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		t    Target
		want string
	}{
		{Target{}, ""},
		{Target{Project: "root/test"}, `project "root/test"`},
		{Target{Project: "7", Agent: "agent 42"}, `agent 42 of project "7"`},
		{Target{Project: "g/p", Agent: "agent 42", Object: "token 7"}, `token 7 of agent 42 of project "g/p"`},
	}
	for _, tc := range cases {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestValidationMessages(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`400 Bad request - ["Name has already been taken"]`: "Name has already been taken",
		`400 Bad request - ["a", "b"]`:                      "a; b",
		`400 Bad request - An agent can have only two`:      "An agent can have only two",
		`name is missing`:                                   "name is missing",
		``:                                                  "no reason given",
		`400 Bad request - [not json]`:                      "[not json]",
		`400 Bad request - []`:                              "[]",
		`400 Bad request - ["Name can't be blank", "x \"y\""]`: `Name can't be blank; x "y"`,
	}
	for in, want := range cases {
		if got := validationMessages(in); got != want {
			t.Errorf("validationMessages(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBodyMessage(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"message":"403 Forbidden"}`:                                                               "403 Forbidden",
		`{"error":"404 Not Found"}`:                                                                 "404 Not Found",
		`{"error":"invalid_token","error_description":"Gone"}`:                                      "invalid_token: Gone",
		`{"message":{"name":["has already been taken"]}}`:                                           `{"name":["has already been taken"]}`,
		`{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`: `{"error":"This endpoint has been requested too many times. Try again later."}`,
		"Retry later\n": "Retry later",
		``:              "",
		`{}`:            "",
	}
	for in, want := range cases {
		if got := bodyMessage([]byte(in)); got != want {
			t.Errorf("bodyMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeleteAgentNotFoundIsSuccess(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"message":"404 Not found"}`} {
		var reqs requestLog
		srv := newServer(t, countingHandler(t, &reqs, func(_ int, w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusNotFound, body)
		}))
		c := newTestClient(t, srv.URL, 3)
		if err := c.DeleteAgent(context.Background(), "root/test", 42); err != nil {
			t.Errorf("DeleteAgent on 404 %s: %v, want nil", body, err)
		}
		got := reqs.all()
		if len(got) != 1 || got[0].Method != http.MethodDelete || got[0].EscapedPath != "/api/v4/projects/root%2Ftest/cluster_agents/42" {
			t.Errorf("requests = %+v, want one DELETE /api/v4/projects/root%%2Ftest/cluster_agents/42", got)
		}
	}

	// A 404 that is not GitLab's word on the object (an unknown route from a
	// wrong base_url, a proxy's empty or HTML page) must not pass for success:
	// the agent would be left behind in GitLab.
	// Nor may a missing project: the user may only have lost access to it.
	for _, body := range []string{`{"error":"404 Not Found"}`, ``, `<html>Not Found</html>`, `{"message":"404 Project Not Found", "[kind project not found]"}`} {
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusNotFound, body)
		}))
		if err := newTestClient(t, srv.URL, 0).DeleteAgent(context.Background(), "root/test", 42); err == nil {
			t.Errorf("DeleteAgent on a 404 with body %q succeeded; want an error", body)
		}
	}

	// 204 is success too; 403 is not.
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	if err := newTestClient(t, srv.URL, 0).DeleteAgent(context.Background(), "root/test", 42); err != nil {
		t.Errorf("DeleteAgent on 204: %v", err)
	}
	srv = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusForbidden, `{"message":"403 Forbidden"}`)
	}))
	err := newTestClient(t, srv.URL, 0).DeleteAgent(context.Background(), "root/test", 42)
	if StatusCode(err) != http.StatusForbidden {
		t.Errorf("DeleteAgent on 403: %v, want a 403 error", err)
	}
	assertContains(t, "Summary", asError(t, err).Summary, "delete agent 42")
}

func TestNetworkError(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	base := srv.URL
	srv.Close()
	c := newTestClient(t, base, 0)
	ctx := context.Background()
	for _, cl := range []call{callGetAgent, callListAgents, callRegisterAgent, callDeleteAgent, callProjectID, callCheckAuth} {
		err := cl.do(ctx, c)
		e := asError(t, err)
		if e.Status != 0 || StatusCode(err) != 0 {
			t.Errorf("%s: Status = %d, want 0", cl.name, e.Status)
		}
		if IsNotFound(err) {
			t.Errorf("%s: IsNotFound on a network error", cl.name)
		}
		assertContains(t, cl.name+" Detail", described(e), "[check url]", "No answer from GitLab")
		assertNotContains(t, cl.name+" Detail", e.Detail, testToken)
	}
}
