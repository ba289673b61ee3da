package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// An answer is GitLab's only when it looks like what GitLab's API sends for
// the request: the status GitLab uses for the operation (201 on a create, 200
// on a read or a list, 204 on a delete), a JSON body where GitLab sends one,
// and in it the object asked for. Anything else (a proxy's sign-in page, a
// captive portal, a web server answering 200 with HTML, a redirect, an empty
// object or list, another object) comes from something that is not GitLab's
// API, and is an *UnexpectedAnswer: never a success, never a deletion, never
// a value for state.

// answerStartHeader carries the first bytes of every answer's body, secrets
// redacted, from the HTTP layer to the answer checks (client-go has closed
// the body by then). The header never leaves the process.
const answerStartHeader = "X-Gitlabagent-Answer-Start"

// answerPeek is how many bytes of a body are kept, and shownStart how many of
// them an error shows.
const (
	answerPeek = 2048
	shownStart = 200
)

// UnexpectedAnswer is an answer that is not what GitLab's API sends for the
// request. It holds the facts: the request, what came back, and what GitLab
// would have sent.
type UnexpectedAnswer struct {
	// Method and URL are the request, the URL without its query.
	Method string
	URL    string
	// Status and ContentType are what came back; Location is where a
	// redirect pointed, and RedirectedTo where a followed one ended.
	Status       int
	ContentType  string
	Location     string
	RedirectedTo string
	// Start is the beginning of the body, with secrets redacted; "" when
	// there was none.
	Start string
	// Problem says what is not GitLab's about it.
	Problem string
	// WantStatus is the status GitLab's API answers the request with.
	WantStatus int
}

func (u *UnexpectedAnswer) Error() string {
	return fmt.Sprintf("%s %s: the answer is not GitLab's API's: %s", u.Method, u.URL, u.Problem)
}

// describe renders the answer for an error message.
func (u *UnexpectedAnswer) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "The answer to %s %s is not one GitLab's API gives: %s.", u.Method, u.URL, u.Problem)
	fmt.Fprintf(&b, " What came back: status %d", u.Status)
	if u.ContentType != "" {
		fmt.Fprintf(&b, ", Content-Type %q", u.ContentType)
	} else {
		b.WriteString(", no Content-Type")
	}
	if u.Location != "" {
		fmt.Fprintf(&b, ", Location %q", u.Location)
	}
	if u.RedirectedTo != "" {
		fmt.Fprintf(&b, ", after being redirected to %s", u.RedirectedTo)
	}
	if u.Start != "" {
		fmt.Fprintf(&b, ", body starting with %s", u.Start)
	} else {
		b.WriteString(", no body")
	}
	b.WriteString(".")
	switch u.WantStatus {
	case http.StatusNoContent:
		b.WriteString(" GitLab answers this request with 204 and no body.")
	case 0:
	default:
		fmt.Fprintf(&b, " GitLab answers this request with %d and a JSON document.", u.WantStatus)
	}
	return b.String()
}

// AnswerOf returns the unexpected answer behind a failed request, or nil
// when the request failed for another reason (or GitLab itself refused it).
func AnswerOf(err error) *UnexpectedAnswer {
	var u *UnexpectedAnswer
	if errors.As(err, &u) {
		return u
	}
	return nil
}

// checkAnswer returns err unchanged unless an answer came back with a
// success or redirect status. Such an answer must have status want, and,
// unless want is 204, a JSON body that decoded without error (err is the
// decoding error, if any); otherwise it is an *UnexpectedAnswer.
// Error statuses are left to explain: they are what GitLab (or something on
// the way) says about a request that failed, not a success.
func checkAnswer(resp *gl.Response, err error, want int) error {
	if resp == nil || resp.Response == nil || resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return err
	}
	switch {
	case resp.StatusCode >= 300:
		problem := "a redirect"
		if loc := resp.Header.Get("Location"); loc != "" {
			problem = "a redirect to " + redactURL(loc)
		}
		if resp.Request != nil && resp.Request.Method != http.MethodGet && resp.Request.Method != http.MethodHead {
			problem += ", which is not followed for a request that changes something"
		}
		return unexpected(resp, want, problem)
	case resp.StatusCode != want:
		return unexpected(resp, want, fmt.Sprintf("status %d where GitLab answers %d", resp.StatusCode, want))
	case want == http.StatusNoContent:
		return nil
	case !isJSON(resp.Header.Get("Content-Type")):
		return unexpected(resp, want, "not JSON")
	case err != nil:
		return unexpected(resp, want, "not the JSON document GitLab sends ("+err.Error()+")")
	}
	return nil
}

// wrongObject is an answer, otherwise GitLab's, that does not hold the object
// asked for: problem says what it holds instead.
func wrongObject(resp *gl.Response, want int, problem string) error {
	return unexpected(resp, want, problem)
}

// objectProblem says why an answer's object is not the one asked for: an
// empty object, or one with another ID ("" when the IDs agree).
func objectProblem(resp *gl.Response, kind string, got, want int64) string {
	if got == want {
		return ""
	}
	if got == 0 {
		if start := strings.TrimSpace(answerStart(resp)); start == "{}" || start == "[]" {
			return fmt.Sprintf("%s (GitLab sends %s %d)", emptyDocument(start), kind, want)
		}
		return fmt.Sprintf("it holds no %s ID where GitLab sends %s %d", kind, kind, want)
	}
	return fmt.Sprintf("it describes %s %d, not %s %d", kind, got, kind, want)
}

// newObjectProblem says why a create's answer does not hold the object
// created: no ID, or another parent or name than asked for ("" when fine).
func newObjectProblem(resp *gl.Response, kind string, id int64, mismatch string) string {
	if id <= 0 {
		if start := strings.TrimSpace(answerStart(resp)); start == "{}" || start == "[]" {
			return fmt.Sprintf("%s (GitLab sends the new %s)", emptyDocument(start), kind)
		}
		return fmt.Sprintf("it holds no %s ID", kind)
	}
	return mismatch
}

// namedObjectProblem says why an answer's object, named by a string (a
// file's path), is not the one asked for: an empty document, or another
// name ("" when the names agree).
func namedObjectProblem(resp *gl.Response, kind, got, want string) string {
	if got == want {
		return ""
	}
	if got == "" {
		if start := strings.TrimSpace(answerStart(resp)); start == "{}" || start == "[]" {
			return fmt.Sprintf("%s (GitLab sends %s %q)", emptyDocument(start), kind, want)
		}
		return fmt.Sprintf("it names no %s where GitLab sends %s %q", kind, kind, want)
	}
	return fmt.Sprintf("it describes %s %q, not %s %q", kind, got, kind, want)
}

// projectProblem says why a project's answer does not hold the project
// asked for (written as a numeric ID or a full path): no ID, or, for a
// numeric ID, another one ("" when fine). A path's ID is not known before.
func projectProblem(resp *gl.Response, project string, id int64) string {
	if want, err := strconv.ParseInt(project, 10, 64); err == nil {
		return objectProblem(resp, "project", id, want)
	}
	if id > 0 {
		return ""
	}
	if start := strings.TrimSpace(answerStart(resp)); start == "{}" || start == "[]" {
		return emptyDocument(start) + " (GitLab sends the project)"
	}
	return "it holds no project ID"
}

func emptyDocument(start string) string {
	if start == "[]" {
		return "an empty JSON list"
	}
	return "an empty JSON object"
}

func unexpected(resp *gl.Response, want int, problem string) *UnexpectedAnswer {
	u := &UnexpectedAnswer{
		Status:      resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Start:       answerStart(resp),
		Problem:     problem,
		WantStatus:  want,
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		u.Location = redactURL(resp.Header.Get("Location"))
	}
	if req := resp.Request; req != nil {
		u.Method = req.Method
		u.URL = redactURL(requestURL(req))
		// A followed redirect leaves the first request on the redirect's answer.
		first := req
		for first.Response != nil && first.Response.Request != nil {
			first = first.Response.Request
		}
		if first != req {
			u.Method, u.URL = first.Method, redactURL(requestURL(first))
			u.RedirectedTo = redactURL(requestURL(req))
		}
	}
	return u
}

func requestURL(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	u := *req.URL
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

func answerStart(resp *gl.Response) string {
	if resp == nil || resp.Response == nil {
		return ""
	}
	return resp.Header.Get(answerStartHeader)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// redactURL hides credentials written in a URL.
func redactURL(raw string) string {
	if i := strings.Index(raw, "?"); i >= 0 {
		raw = raw[:i]
	}
	return redactUserinfo(raw)
}

// gitlabSecret matches GitLab's prefixed tokens (glpat-, glagent-, gloas-, …)
// wherever they appear in a text that is not JSON.
var gitlabSecret = regexp.MustCompile(`gl[a-z]{1,12}-[A-Za-z0-9_\-.]{8,}`)

// peekAnswers keeps the start of each answer's body on the answer (see
// answerStartHeader), with every secret redacted: JSON as the log redacts it
// (RedactJSON), any other text with the API token and GitLab's token formats
// masked. A JSON body too long to be parsed whole is not shown at all.
func peekAnswers(apiToken string) gl.Interceptor {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			if err != nil || resp.Body == nil || resp.Body == http.NoBody {
				return resp, err
			}
			head := make([]byte, answerPeek+1)
			n, readErr := io.ReadFull(resp.Body, head)
			head = head[:n]
			rest := io.Reader(resp.Body)
			if readErr != nil && !errors.Is(readErr, io.EOF) && !errors.Is(readErr, io.ErrUnexpectedEOF) {
				rest = errorReader{readErr}
			}
			resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), rest), resp.Body}
			if n > 0 {
				resp.Header.Set(answerStartHeader, shownBody(head, n > answerPeek, apiToken))
			}
			return resp, nil
		})
	}
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// shownBody renders the start of a body for an error, secrets redacted and
// quoted so that control characters show as escapes.
func shownBody(data []byte, truncated bool, apiToken string) string {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		// Only JSON parsed whole can have its secrets redacted.
		if truncated || !json.Valid(trimmed) {
			return "(JSON too long or malformed to be redacted, not shown)"
		}
		return clip(RedactJSON(trimmed))
	}
	text := string(data)
	if apiToken != "" {
		text = strings.ReplaceAll(text, apiToken, redacted)
	}
	text = gitlabSecret.ReplaceAllString(text, redacted)
	return fmt.Sprintf("%q", clip(strings.Join(strings.Fields(text), " ")))
}

// clip cuts s to shownStart bytes at a rune boundary.
func clip(s string) string {
	if len(s) <= shownStart {
		return s
	}
	cut := shownStart
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// NotSentError is a request that failed before any of it reached GitLab: the
// connection could not be made, or the wait (rate limit, timeout,
// interruption) ended before it was sent. GitLab did nothing with it.
type NotSentError struct{ err error }

func (e *NotSentError) Error() string { return e.err.Error() }
func (e *NotSentError) Unwrap() error { return e.err }

// IsNotSent reports whether a request failed before GitLab received it.
func IsNotSent(err error) bool {
	var e *NotSentError
	return errors.As(err, &e)
}

// markUnsent wraps the error of each attempt that never wrote its request
// to the connection as a *NotSentError.
func markUnsent(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		var wrote atomic.Bool
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) }}
		ctx := httptrace.WithClientTrace(req.Context(), trace)
		resp, err := next.RoundTrip(req.WithContext(ctx))
		if err != nil && !wrote.Load() {
			return resp, &NotSentError{err: err}
		}
		return resp, err
	})
}

// notSentContext reports an operation that ended (interrupted, or out of
// time) before its request was handed to the HTTP layer.
func notSentContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &NotSentError{err: err}
	}
	return nil
}

// asNotSent marks an error that came before any request as such.
func asNotSent(err error) error {
	if IsNotSent(err) {
		return err
	}
	return &NotSentError{err: err}
}
