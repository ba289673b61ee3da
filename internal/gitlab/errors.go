package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// messageHeader carries the message of a 404 body from the transport to the
// error handling: client-go turns every 404 into ErrNotFound without reading
// its body, but GitLab's 404 bodies tell a missing project from a missing
// agent. The header never leaves the process.
const messageHeader = "X-Gitlabagent-Not-Found-Message"

// keepErrorMessages reads the short JSON body of 404 answers and keeps its
// message on the response for explain.
func keepErrorMessages(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusNotFound || resp.Body == nil {
			return resp, err
		}
		data, readErr := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(data)))
		if readErr == nil && len(data) > 0 {
			resp.Header.Set(messageHeader, strings.Join(strings.Fields(string(data)), " "))
		}
		return resp, nil
	})
}

// bodyMessage extracts GitLab's "message" or "error" string from an error body.
func bodyMessage(data []byte) string {
	var body struct {
		Message          any    `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return strings.TrimSpace(string(data))
	}
	switch m := body.Message.(type) {
	case string:
		return m
	case nil:
	default:
		out, _ := json.Marshal(m)
		return string(out)
	}
	if body.ErrorDescription != "" {
		return body.Error + ": " + body.ErrorDescription
	}
	return body.Error
}

// Target names what a request is about, so that errors can say so.
type Target struct {
	// Project is the project as the user wrote it, or its numeric ID.
	Project string
	// Agent describes the agent ("agent 42" or `agent "name"`), if any.
	Agent string
	// Object describes the object under the agent ("token 7"), if any.
	Object string
}

func (t Target) String() string {
	var parts []string
	if t.Object != "" {
		parts = append(parts, t.Object)
	}
	if t.Agent != "" {
		parts = append(parts, t.Agent)
	}
	if t.Project != "" {
		parts = append(parts, fmt.Sprintf("project %q", t.Project))
	}
	return strings.Join(parts, " of ")
}

// Setting is a setting of the client (Config) that a failure points at, so
// that the caller can name it as its users know it.
type Setting int

const (
	SettingURL              Setting = iota + 1 // the GitLab API URL (Config.BaseURL)
	SettingToken                               // the access token (Config.Token)
	SettingTLS                                 // the CA certificates and TLS verification (Config.CACertFile, CACert, Insecure)
	SettingRequestTimeout                      // how long one attempt may take (Config.RequestTimeout)
	SettingRetries                             // retries, with which a 429 is waited out (Config.Retries)
	SettingOperationTimeout                    // how long the caller's operation may take (its context's deadline)
	SettingProject                             // the project as the request names it
)

// Kind is what kind of failure an Error is, where the caller has more to say
// about it than the failure itself.
type Kind int

const (
	KindOther                      Kind = iota
	KindReadOnlyToken                   // the token's scopes allow reads only (403 insufficient_scope)
	KindProjectNotFound                 // 404 Project Not Found: deleted, or not visible to the token's user
	KindProjectMoved                    // 405 for a write at a moved project's old path
	KindRateLimited                     // 429 for longer than the client waits
	KindTokenLimit                      // the agent has its maximum of active tokens (Tokens lists them)
	KindURLConfigurationExists          // the agent already has a URL configuration (Existing, when it could be read)
	KindURLConfigurationUnknown         // a lost create's outcome: Existing is what the agent has, if anything
	KindCertificatesRefused             // GitLab refused a URL configuration's certificates or key in both forms
	KindReceptiveAgentsUnavailable      // URL configurations are not available (Gap says why)
	KindKASNotConfigured                // GitLab has no agent server (KAS) to ask
)

// Error is a failed GitLab request: what failed, what GitLab said, and the
// facts a caller needs to say what to do next.
type Error struct {
	// Status is the HTTP status GitLab answered, or 0 when no answer came.
	Status int
	// GitLabMessage is what GitLab said, as it said it.
	GitLabMessage string
	// Summary is a one-line description; Detail says what happened and what to do.
	Summary string
	Detail  string
	// OutcomeUnknown is set on a failed create when GitLab may have created
	// the object anyway (no answer, a 5xx, an interrupted run).
	OutcomeUnknown bool
	// ExistingID is the ID of an object found to exist already where a create
	// failed (an agent of the same name), or 0.
	ExistingID int64
	// NotSent is set when the request failed before any of it reached
	// GitLab (no connection, or the wait ended first): GitLab did nothing.
	NotSent bool
	// Answer is set when what came back is not an answer of GitLab's API.
	Answer *UnexpectedAnswer
	// Candidates are, after a token create whose outcome is unknown, the
	// agent's tokens it may have created, none of them revoked.
	Candidates []*gl.AgentToken
	// Kind is the kind of failure; Check the client settings it points at.
	Kind  Kind
	Check []Setting
	// Project and AgentID name where the failed request went, when the
	// caller's advice needs them (URL configurations).
	Project string
	AgentID int64
	// Tokens are the agent's active tokens in the way (KindTokenLimit).
	Tokens []*gl.AgentToken
	// Existing is the agent's URL configuration (KindURLConfigurationExists,
	// KindURLConfigurationUnknown), or nil when there is none or it could not be read.
	Existing *URLConfiguration
	// Gap is why URL configurations are not available (KindReceptiveAgentsUnavailable).
	Gap ReceptiveGap
	// missing is set when GitLab answered its 404 for a record it did not
	// find, which it also answers to callers who may not see the record: a
	// Reporter, or a non-member of a public project.
	missing bool
	// gone is set once GitLab has also shown that the caller can see where
	// the object was (listing its siblings succeeded), so the object is not
	// there. Only then may it leave state.
	gone bool
	// reason is why a repository-file request failed (see Reason), or "".
	reason string
	err    error
}

func (e *Error) Error() string { return e.Summary + ": " + e.Detail }

// Unwrap returns the client-go error.
func (e *Error) Unwrap() error { return e.err }

// StatusCode returns the HTTP status of a failed request, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	var er *gl.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode
	}
	return 0
}

// IsNotFound reports whether GitLab showed that the object itself does not
// exist (for an agent token: also that it was revoked): it answered 404 for
// the object and let the caller list the object's siblings. Only then may a
// resource leave state. A 404 for the project (a deleted project, or a user
// who lost access to it), for an unknown route (a wrong API URL), from
// something that is not GitLab, or for an object the caller may not see (a
// Reporter's token) does not count: treating those as "gone" would drop live
// objects, and their secrets, from state.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.gone
}

// isMissing reports GitLab's 404 for a record under a visible project, before
// anything showed whether the caller may see such records at all.
func isMissing(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.missing
}

// markGone returns err, known to be a missing record, as confirmed gone.
func markGone(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	gone := *e
	gone.gone = true
	return &gone
}

// isGone reports whether a response is GitLab's 404 for a missing record
// under a visible project: {"message":"404 Not found"} (or "404 Not Found"),
// not "404 Project Not Found", not "404 ClusterAgents Not Found" and not the
// {"error":"404 Not Found"} of an unknown route.
func isGone(resp *gl.Response) bool {
	if resp == nil || resp.Response == nil || resp.StatusCode != http.StatusNotFound {
		return false
	}
	raw := resp.Header.Get(messageHeader)
	return strings.HasPrefix(raw, `{"message":`) && !strings.Contains(raw, "Project Not Found") &&
		!strings.Contains(raw, "ClusterAgents Not Found")
}

// IsInterrupted reports whether a request ended because its operation was
// cancelled (Ctrl-C) or ran out of time, not because of GitLab's answer.
func IsInterrupted(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Message returns what GitLab said in a failed request, or "".
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.GitLabMessage
	}
	return ""
}

// explain turns a client-go error into an *Error that names the action, the
// objects involved, GitLab's answer and the next step.
func explain(err error, resp *gl.Response, action string, t Target) error {
	if err == nil {
		return nil
	}
	e := &Error{err: err, Summary: "Failed to " + action}
	if answer := AnswerOf(err); answer != nil {
		e.Status, e.Answer = answer.Status, answer
		e.Detail = fmt.Sprintf("%s It does not come from GitLab's API, so nothing was taken from it for %s.",
			answer.describe(), t.String())
		return e
	}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	e.NotSent = e.Status == 0 && IsNotSent(err)
	var er *gl.ErrorResponse
	if errors.As(err, &er) {
		if e.Status == 0 {
			e.Status = er.StatusCode
		}
		if len(er.Body) > 0 {
			e.GitLabMessage = bodyMessage(er.Body)
		}
	}
	unknownRoute := false
	if e.Status == http.StatusNotFound && resp != nil && resp.Response != nil {
		raw := resp.Header.Get(messageHeader)
		e.GitLabMessage = bodyMessage([]byte(raw))
		unknownRoute = strings.HasPrefix(raw, `{"error":`)
		e.missing = isGone(resp)
	}
	said := ""
	if e.GitLabMessage != "" {
		said = fmt.Sprintf(" GitLab said: %q.", e.GitLabMessage)
	}
	what := t.String()
	var timeout *TimeoutError
	switch {
	case e.Status == 0 && errors.As(err, &timeout):
		e.Check = []Setting{SettingRequestTimeout}
		e.Detail = fmt.Sprintf("GitLab did not answer %s %s for %s within %s, the client's request timeout: GitLab or a proxy on the way is stalled. The request was not repeated. Check GitLab's health and the network path to it, or raise the request timeout if GitLab is only slow.", timeout.Method, timeout.Path, what, timeout.Timeout)
	case e.Status == 0 && errors.Is(err, context.Canceled):
		e.Detail = fmt.Sprintf("The run was interrupted (Ctrl-C) while waiting for GitLab for %s.", what)
	case e.Status == 0 && errors.Is(err, context.DeadlineExceeded):
		e.Check = []Setting{SettingOperationTimeout}
		e.Detail = fmt.Sprintf("The operation ran out of time while waiting for GitLab for %s: give it longer if GitLab needs longer.", what)
	case e.Status == 0:
		e.Check = []Setting{SettingURL, SettingTLS}
		e.Detail = fmt.Sprintf("No answer from GitLab for %s: %v. Check the GitLab API URL, the network path to GitLab and the TLS settings (trusted CA certificates, verification).", what, err)
	case e.Status == http.StatusUnauthorized && strings.Contains(e.GitLabMessage, "invalid_token") && strings.Contains(e.GitLabMessage, "expired"):
		e.Check = []Setting{SettingToken}
		e.Detail = "GitLab rejected the token: it has expired (401 invalid_token)." + said + " Create a new token with the `api` scope (or extend this one's expiry date in GitLab) and use it instead."
	case e.Status == http.StatusUnauthorized && strings.Contains(e.GitLabMessage, "invalid_token") && strings.Contains(e.GitLabMessage, "revoked"):
		e.Check = []Setting{SettingToken}
		e.Detail = "GitLab rejected the token: it was revoked (401 invalid_token)." + said + " A revoked token cannot be used again: create a new token with the `api` scope and use it instead."
	case e.Status == http.StatusUnauthorized:
		e.Check = []Setting{SettingToken, SettingURL}
		e.Detail = "GitLab rejected the token (401 Unauthorized)." + said + " Check the token: it may be mistyped, expired or revoked, or belong to another GitLab instance than the API URL's."
	case e.Status == http.StatusForbidden && strings.Contains(e.GitLabMessage, "insufficient_scope"):
		e.Kind, e.Check = KindReadOnlyToken, []Setting{SettingToken}
		e.Detail = fmt.Sprintf("The token may not %s (403 insufficient_scope): its scopes allow reading only, as `read_api` does.%s Use a token with the `api` scope.", action, said)
	case e.Status == http.StatusForbidden:
		e.Detail = fmt.Sprintf("The token's user is not allowed to %s (403 Forbidden) on %s.%s Registering and deleting agents, creating and revoking tokens and managing URL configurations need at least the Maintainer role on the project.", action, what, said)
	case e.Status == http.StatusNotFound && strings.Contains(e.GitLabMessage, "Project Not Found"):
		e.Kind, e.Check = KindProjectNotFound, []Setting{SettingProject}
		e.Detail = fmt.Sprintf("Project %q was not found, or the token's user cannot see it.%s A project is named by its numeric ID or its full path (group/subgroup/project), and the token's user must be a member. If the project was deleted, its agents and tokens went with it.", t.Project, said)
	case e.Status == http.StatusNotFound && strings.Contains(e.GitLabMessage, "ClusterAgents Not Found"):
		e.Detail = fmt.Sprintf("The token's user may not list the agents of project %q.%s Reading agents needs at least the Developer role on the project.", t.Project, said)
	case e.Status == http.StatusNotFound && unknownRoute:
		e.Check = []Setting{SettingURL}
		e.Detail = fmt.Sprintf("GitLab has no such API endpoint.%s Check the API URL: it must point at a GitLab instance (for example https://gitlab.example.com/api/v4).", said)
	case e.Status == http.StatusNotFound:
		e.Detail = fmt.Sprintf("%s does not exist, or the token's user cannot see it.%s", upperFirst(what), said)
	case e.Status == http.StatusMethodNotAllowed && strings.Contains(e.GitLabMessage, "moved projects"):
		e.Kind, e.Check = KindProjectMoved, []Setting{SettingProject}
		e.Detail = fmt.Sprintf("Project %q has been renamed or moved; GitLab serves only reads at its old path.%s Name it by its new full path or its numeric ID.", t.Project, said)
	case e.Status == http.StatusBadRequest:
		e.Detail = fmt.Sprintf("GitLab refused the request for %s: %s.", what, validationMessages(e.GitLabMessage))
	case e.Status == http.StatusTooManyRequests:
		e.Kind, e.Check = KindRateLimited, []Setting{SettingRetries}
		e.Detail = fmt.Sprintf("GitLab kept answering 429 Too Many Requests for %s, for longer than the client waits for its rate limit.%s Wait and run again, with fewer requests at a time if other clients share the limit.", what, said)
	case e.Status >= 500:
		e.Detail = fmt.Sprintf("GitLab answered %d for %s.%s Reads and deletes are retried automatically; a create is never repeated blindly. Run again once GitLab is healthy.", e.Status, what, said)
	default:
		e.Detail = fmt.Sprintf("GitLab answered %d for %s.%s", e.Status, what, said)
	}
	if e.NotSent {
		e.Detail += " The request never reached GitLab, so GitLab changed nothing."
	}
	return e
}

// validationMessages turns `400 Bad request - ["a", "b"]` into `a; b`.
func validationMessages(msg string) string {
	msg = strings.TrimPrefix(msg, "400 Bad request - ")
	if strings.HasPrefix(msg, "[") && strings.HasSuffix(msg, "]") {
		var list []string
		if err := json.Unmarshal([]byte(msg), &list); err == nil && len(list) > 0 {
			return strings.Join(list, "; ")
		}
	}
	if msg == "" {
		return "no reason given"
	}
	return msg
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var settingNames = map[Setting]string{
	SettingURL: "url", SettingToken: "token", SettingTLS: "tls", SettingRequestTimeout: "request timeout",
	SettingRetries: "retries", SettingOperationTimeout: "operation timeout", SettingProject: "project",
}

func (s Setting) String() string { return settingNames[s] }

var kindNames = map[Kind]string{
	KindOther: "other", KindReadOnlyToken: "read-only token", KindProjectNotFound: "project not found",
	KindProjectMoved: "project moved", KindRateLimited: "rate limited", KindTokenLimit: "token limit",
	KindURLConfigurationExists: "URL configuration exists", KindURLConfigurationUnknown: "URL configuration unknown",
	KindCertificatesRefused: "certificates refused", KindReceptiveAgentsUnavailable: "receptive agents unavailable",
	KindKASNotConfigured: "KAS not configured",
}

func (k Kind) String() string { return kindNames[k] }
