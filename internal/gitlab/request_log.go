package gitlab

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// redacted replaces every secret value in what the provider logs.
const redacted = "[REDACTED]"

// maxLoggedBody bounds how much of a response body reaches the TRACE log.
const maxLoggedBody = 16 << 10

// logRequests logs each HTTP exchange with GitLab through tflog: method, path,
// status and duration at DEBUG, and the JSON response body, with every secret
// field redacted, at TRACE. No header is ever logged, so neither the API token
// nor any other credential can reach a log; the API token is also masked in
// every message and field, in case GitLab echoes it back.
//
// It does only the work the provider's log level needs, as tflog tells it
// for the request's context (terraform-plugin-go sets the level from
// TF_LOG_PROVIDER_GITLABAGENT and TF_LOG): nothing at all above DEBUG (as
// when nobody asked for logs, see QuietLogSettings in internal/provider), and
// no reading, parsing or redacting of response bodies above TRACE.
func logRequests(apiToken string) gl.Interceptor {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			if !tflog.IsDebug(req.Context()) {
				return next.RoundTrip(req)
			}
			ctx := tflog.MaskAllFieldValuesStrings(req.Context(), apiToken)
			ctx = tflog.MaskMessageStrings(ctx, apiToken)
			fields := map[string]any{
				"http_method": req.Method,
				"http_path":   req.URL.EscapedPath(),
			}
			if q := redactedQuery(req.URL.Query()); q != "" {
				fields["http_query"] = q
			}
			start := time.Now()
			resp, err := next.RoundTrip(req)
			fields["duration_ms"] = time.Since(start).Milliseconds()
			if err != nil {
				fields["error"] = err.Error()
				tflog.Debug(ctx, "GitLab API request failed", fields)
				return resp, err
			}
			fields["http_status"] = resp.StatusCode
			tflog.Debug(ctx, "GitLab API request", fields)
			if tflog.IsTrace(req.Context()) && resp.Body != nil && strings.Contains(resp.Header.Get("Content-Type"), "json") {
				data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxLoggedBody+1))
				rest := resp.Body
				resp.Body = readCloser{io.MultiReader(bytes.NewReader(data), rest), rest}
				if readErr == nil && len(data) <= maxLoggedBody {
					tflog.Trace(ctx, "GitLab API response body", map[string]any{
						"http_path": req.URL.EscapedPath(),
						"body":      RedactJSON(data),
					})
				}
			}
			return resp, nil
		})
	}
}

// secretKeys are JSON keys whose values are secrets, whatever the value looks like.
var secretKeys = map[string]bool{
	"token":         true,
	"client_key":    true,
	"client_key_wo": true,
	"private_key":   true,
	"private_token": true,
	"access_token":  true,
	"refresh_token": true,
	"password":      true,
	"secret":        true,
}

// IsSecretKey reports whether a JSON key or query parameter carries a secret.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	return secretKeys[k] || strings.HasSuffix(k, "_token") || strings.HasSuffix(k, "_secret") ||
		strings.HasSuffix(k, "_key") && k != "public_key"
}

// RedactJSON returns data with the value of every secret key replaced, at any
// depth. Data that is not JSON is not returned at all.
func RedactJSON(data []byte) string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "(body is not JSON; not logged)"
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return "(body not logged)"
	}
	return string(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if IsSecretKey(k) && val != nil {
				t[k] = redacted
				continue
			}
			t[k] = redactValue(val)
		}
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
	}
	return v
}

func redactedQuery(q url.Values) string {
	for k, vs := range q {
		if IsSecretKey(k) {
			for i := range vs {
				vs[i] = redacted
			}
		}
	}
	return q.Encode()
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type readCloser struct {
	io.Reader
	io.Closer
}
