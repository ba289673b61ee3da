package mockgitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrNotFound is wrapped by the out-of-band methods when the object they act on does not exist.
var ErrNotFound = errors.New("not found")

// ErrTokenLimit is returned when an agent already has two active tokens. Its text is GitLab's message.
var ErrTokenLimit = errors.New("An agent can have only two active tokens at a time") //nolint:staticcheck // GitLab's exact words

// errURLConfigExists is the service error for a second URL configuration on one agent.
var errURLConfigExists = errors.New("URL configuration already exists for this agent")

// ValidationError carries model validation messages (Rails full messages), in GitLab's order.
type ValidationError struct {
	Messages []string
}

// Error joins the messages.
func (e *ValidationError) Error() string {
	return "validation failed: " + strings.Join(e.Messages, "; ")
}

// rubyArrayInspect renders strings the way Ruby's Array#inspect does: ["a", "b"].
func rubyArrayInspect(msgs []string) string {
	quoted := make([]string, len(msgs))
	for i, m := range msgs {
		m = strings.ReplaceAll(m, `\`, `\\`)
		m = strings.ReplaceAll(m, `"`, `\"`)
		quoted[i] = `"` + m + `"`
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// response is a fully built HTTP answer. Handlers build one under the server lock; it is written out
// after the lock is released.
type response struct {
	status int
	header http.Header
	body   []byte
	// Set by faults: wait this long before answering (outside the lock); with handleLater, handle the
	// request only after the wait; with drop, close the connection instead of answering.
	delay       time.Duration
	handleLater bool
	drop        bool
}

// marshalJSON encodes v without HTML escaping and without the trailing newline.
func marshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"message":"500 Internal Server Error"}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// jsonResponse answers status with v as JSON.
func jsonResponse(status int, v any) *response {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &response{status: status, header: h, body: marshalJSON(v)}
}

// noContent is the 204 answer of a successful DELETE.
func noContent() *response {
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

// messageError is GitLab's render_api_error! shape: {"message":"..."}.
func messageError(status int, msg string) *response {
	return jsonResponse(status, map[string]string{"message": msg})
}

// grapeError is the shape of Grape's own errors (validation, unknown route): {"error":"..."}.
func grapeError(status int, msg string) *response {
	return jsonResponse(status, map[string]string{"error": msg})
}

// The error answers of §1.3 of the behaviour spec.
var (
	errUnauthorized       = func() *response { return messageError(401, "401 Unauthorized") }
	errForbidden          = func() *response { return messageError(403, "403 Forbidden") }
	errProjectNotFound    = func() *response { return messageError(404, "404 Project Not Found") }
	errAgentsNotFound     = func() *response { return messageError(404, "404 ClusterAgents Not Found") }
	errNotFoundPlain      = func() *response { return messageError(404, "404 Not Found") } // not_found! without argument
	errRecordNotFound     = func() *response { return messageError(404, "404 Not found") } // ActiveRecord::RecordNotFound
	errRouteNotFound      = func() *response { return grapeError(404, "404 Not Found") }
	errPreconditionFailed = func() *response { return messageError(412, "412 Precondition Failed") }
	errMovedNonGet        = func() *response {
		return messageError(405, "Non GET methods are not allowed for moved projects")
	}
)

// badRequest renders a service error: an array of validation messages in Ruby inspect form, or a single
// string as is.
func badRequest(err error) *response {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return messageError(400, "400 Bad request - "+rubyArrayInspect(ve.Messages))
	}
	return messageError(400, "400 Bad request - "+err.Error())
}

// paramErrors renders Grape's parameter validation failures, joined as Grape joins them.
func paramErrors(msgs []string) *response {
	return grapeError(400, strings.Join(msgs, ", "))
}

// errorf formats an error for the out-of-band methods, wrapping sentinel when it is not nil.
func errorf(sentinel error, format string, args ...any) error {
	if sentinel == nil {
		return fmt.Errorf(format, args...)
	}
	return fmt.Errorf(format+": %w", append(args, sentinel)...)
}
