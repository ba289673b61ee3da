package mockgitlab

import (
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault is an injected failure: the next Count matching API requests (after authentication) get this
// answer instead of normal handling. Requests that fail authentication (401), are throttled by the rate
// limit (429) or match no route (404) are answered normally and do not use up a fault.
//
// Drop closes the connection without any answer: the client sees EOF or a connection reset, never an
// HTTP response. DelayMS answers that many milliseconds late; without a Status the late answer is the
// normal one. Without AfterCommit the request is handled only after the delay (a client that gives up
// during the delay leaves nothing changed); with AfterCommit it is handled first and the answer (or the
// drop) comes late. The wait stops as soon as the client goes away.
//
// Go's http.Transport silently retries an idempotent request (GET, HEAD) once when a reused keep-alive
// connection closes before any answer, so a Count of 1 on such a request may go unseen by Go clients;
// use a Count of 2 to make the client see the failure.
type Fault struct {
	Method      string            `json:"method"`       // "" = any
	Pattern     string            `json:"pattern"`      // path.Match glob on the escaped path, "" = any
	Status      int               `json:"status"`       // e.g. 500, 502, 429; values outside 100-599 mean 500, except 0 with Drop or DelayMS (no status)
	Count       int               `json:"count"`        // how many matching requests to affect; values below 1 mean 1
	AfterCommit bool              `json:"after_commit"` // process the request normally (state changes happen) but answer Status with an error body instead of the real answer (or drop, or answer late)
	Body        string            `json:"body"`         // optional; default: GitLab's body for that status (429: plain text "Retry later\n")
	Headers     map[string]string `json:"headers"`      // e.g. {"RateLimit-Reset": "<unix>", "Retry-After": "1"}
	Drop        bool              `json:"drop"`         // close the connection without an answer; Status, Body and Headers are ignored
	DelayMS     int               `json:"delay_ms"`     // answer this many milliseconds late; negative values mean 0
	Answer      string            `json:"answer"`       // an answer that is not GitLab's API's: see FaultAnswers
}

// Answers that are not GitLab's, as something else on the way to it gives them (a proxy's sign-in page, a
// captive portal, a web server or load balancer answering in GitLab's place). With AfterCommit the request
// is handled first (the change happens) and this is its answer; without, nothing is handled. Status, when
// set, replaces the answer's status.
const (
	// AnswerHTML is 200 with an HTML sign-in page.
	AnswerHTML = "html"
	// AnswerRedirect is 302 to /users/sign_in, where the mock serves GitLab's HTML sign-in page.
	AnswerRedirect = "redirect"
	// AnswerEmptyObject is `{}` with the real answer's status (after commit), else 200.
	AnswerEmptyObject = "empty_object"
	// AnswerEmptyList is `[]` with the real answer's status (after commit), else 200.
	AnswerEmptyList = "empty_list"
	// AnswerWrongID is the real answer about another object: every "id" at its top level (the object's,
	// or each listed object's) raised by WrongIDOffset; a repository file's "file_path" moved under
	// WrongFileDir; in a GraphQL answer, every global ID ("gid://gitlab/<Type>/<id>") raised by
	// WrongIDOffset. The request is always handled.
	AnswerWrongID = "wrong_id"
)

// FaultAnswers lists the values of Fault.Answer.
var FaultAnswers = []string{AnswerHTML, AnswerRedirect, AnswerEmptyObject, AnswerEmptyList, AnswerWrongID}

// WrongIDOffset is what AnswerWrongID adds to each ID.
const WrongIDOffset = 1000

// WrongFileDir is the directory AnswerWrongID moves a file's path under: "a/b.yaml" becomes
// "wrong-id/a/b.yaml", another file.
const WrongFileDir = "wrong-id"

// signInPage is the start of GitLab's HTML sign-in page, which proxies in front of it, or GitLab's web UI
// reached in place of its API, answer with.
const signInPage = `<!DOCTYPE html>
<html class="" lang="en">
<head prefix="og: http://ogp.me/ns#">
<meta charset="utf-8">
<title>Sign in · GitLab</title>
</head>
<body class="login-page"><form action="/users/sign_in" method="post"><input type="hidden" name="authenticity_token" value="mock-csrf-0000"></form></body>
</html>
`

// signInPath is where GitLab's web UI signs users in.
const signInPath = "/users/sign_in"

// signInResponse is GitLab's HTML sign-in page.
func signInResponse() *response {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	return &response{status: http.StatusOK, header: h, body: []byte(signInPage)}
}

// answerResponse builds a fault's answer that is not GitLab's API's. committed is the real answer when
// the request was handled, nil otherwise.
func answerResponse(f *Fault, committed *response) *response {
	var resp *response
	switch f.Answer {
	case AnswerHTML:
		resp = signInResponse()
	case AnswerRedirect:
		h := http.Header{}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Location", signInPath)
		resp = &response{status: http.StatusFound, header: h,
			body: []byte(`<html><body>You are being <a href="` + signInPath + `">redirected</a>.</body></html>`)}
	case AnswerEmptyObject, AnswerEmptyList:
		body := "{}"
		if f.Answer == AnswerEmptyList {
			body = "[]"
		}
		resp = &response{status: http.StatusOK, header: http.Header{}, body: []byte(body)}
		resp.header.Set("Content-Type", "application/json")
		if committed != nil && committed.status < 300 {
			resp.status = committed.status
		}
	case AnswerWrongID:
		resp = committed
		if resp != nil {
			resp = &response{status: committed.status, header: committed.header, body: withWrongIDs(committed.body)}
		}
	}
	if resp == nil {
		resp = &response{status: http.StatusInternalServerError, header: http.Header{}}
	}
	if f.Status != 0 {
		resp.status = f.Status
	}
	return resp
}

// withWrongIDs raises the top-level "id" of a JSON object, or of each object of a JSON list, and moves
// a top-level "file_path" under WrongFileDir. In a GraphQL answer ({"data":…}) it raises every global ID.
func withWrongIDs(body []byte) []byte {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return body
	}
	shift := func(o any) {
		if m, ok := o.(map[string]any); ok {
			if id, ok := m["id"].(float64); ok {
				m["id"] = int64(id) + WrongIDOffset
			}
			if p, ok := m["file_path"].(string); ok {
				m["file_path"] = WrongFileDir + "/" + p
			}
			if data, ok := m["data"]; ok {
				m["data"] = withWrongGlobalIDs(data)
			}
		}
	}
	if list, ok := v.([]any); ok {
		for _, o := range list {
			shift(o)
		}
	} else {
		shift(v)
	}
	return marshalJSON(v)
}

// withWrongGlobalIDs raises the number of every GraphQL global ID ("gid://gitlab/<Type>/<id>") in v.
func withWrongGlobalIDs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = withWrongGlobalIDs(e)
		}
	case []any:
		for i, e := range x {
			x[i] = withWrongGlobalIDs(e)
		}
	case string:
		if i := strings.LastIndex(x, "/"); strings.HasPrefix(x, "gid://gitlab/") && i > 0 {
			if id, err := strconv.ParseInt(x[i+1:], 10, 64); err == nil {
				return x[:i+1] + strconv.FormatInt(id+WrongIDOffset, 10)
			}
		}
	}
	return v
}

// InjectFault queues a fault. Faults are matched in the order they were injected.
func (s *Server) InjectFault(f Fault) {
	if f.Count < 1 {
		f.Count = 1
	}
	if f.DelayMS < 0 {
		f.DelayMS = 0
	}
	noStatus := f.Status == 0 && (f.Drop || f.DelayMS > 0 || f.Answer != "")
	if (f.Status < 100 || f.Status > 599) && !noStatus {
		f.Status = http.StatusInternalServerError
	}
	if f.Headers != nil {
		h := make(map[string]string, len(f.Headers))
		for k, v := range f.Headers {
			h[k] = v
		}
		f.Headers = h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one use of the first fault matching the request, if any. The lock must be held.
func (s *Server) takeFault(method, escapedPath string) *Fault {
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if f.Pattern != "" {
			if ok, err := path.Match(f.Pattern, escapedPath); err != nil || !ok {
				continue
			}
		}
		hit := *f
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return &hit
	}
	return nil
}

// applyFault builds the answer of a fault. committed is the real answer when the request was already
// handled (AfterCommit), nil otherwise.
func applyFault(f *Fault, committed *response) *response {
	delay := time.Duration(f.DelayMS) * time.Millisecond
	var resp *response
	switch {
	case f.Answer != "":
		resp = answerResponse(f, committed)
	case f.Drop:
		resp = &response{drop: true}
	case f.Status != 0:
		resp = faultResponse(f)
	case committed != nil:
		resp = committed
	default: // a delay without status before handling: handle after the delay
		resp = &response{handleLater: true}
	}
	resp.delay = delay
	return resp
}

// faultResponse builds the answer of a fault with a status. Without a Body, 429 answers GitLab's
// Rack::Attack text and other statuses {"message":"<status> <text>"}. Without Headers, 429 carries
// GitLab's throttle headers with RateLimit-Reset one second ahead (real time, as clients compare it to
// their clock).
func faultResponse(f *Fault) *response {
	h := http.Header{}
	body := f.Body
	switch {
	case body != "" && json.Valid([]byte(body)):
		h.Set("Content-Type", "application/json")
	case body != "":
		h.Set("Content-Type", "text/plain")
	case f.Status == http.StatusTooManyRequests:
		body = "Retry later\n"
		h.Set("Content-Type", "text/plain")
	default:
		body = string(marshalJSON(map[string]string{"message": strconv.Itoa(f.Status) + " " + http.StatusText(f.Status)}))
		h.Set("Content-Type", "application/json")
	}
	if f.Status == http.StatusTooManyRequests && len(f.Headers) == 0 {
		reset := time.Now().Add(time.Second).Truncate(time.Second)
		if !reset.After(time.Now()) {
			reset = reset.Add(time.Second)
		}
		h.Set("RateLimit-Name", "throttle_authenticated_api")
		h.Set("RateLimit-Limit", "60")
		h.Set("RateLimit-Observed", "61")
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
		h.Set("Retry-After", "1")
	}
	for k, v := range f.Headers {
		h.Set(k, v)
	}
	return &response{status: f.Status, header: h, body: []byte(body)}
}

// checkFault validates a fault posted to the control endpoint; it returns the problem, or "".
func checkFault(f Fault) string {
	switch {
	case f.Count < 0:
		return "count must be at least 1"
	case f.DelayMS < 0:
		return "delay_ms must not be negative"
	case f.Drop && (f.Status != 0 || f.Body != "" || len(f.Headers) > 0 || f.Answer != ""):
		return "a drop fault sends no answer: leave out status, body, headers and answer"
	case f.Answer != "" && !slices.Contains(FaultAnswers, f.Answer):
		return "answer must be one of " + strings.Join(FaultAnswers, ", ")
	case f.Answer != "" && (f.Body != "" || len(f.Headers) > 0):
		return "an answer fault brings its own body and headers: leave out body and headers"
	case f.Answer != "" && f.Status == 0:
		return ""
	case f.Drop || (f.DelayMS > 0 && f.Status == 0):
		return ""
	case f.Status < 100 || f.Status > 599:
		return "status must be an HTTP status code (100-599), unless drop, delay_ms or answer is set"
	}
	return ""
}
