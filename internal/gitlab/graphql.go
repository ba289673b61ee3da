package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// GitLab's GraphQL API (POST /api/graphql) answers {"data":…,"errors":[…]} (graphql-ruby), 200 even
// when a field failed; a credential it does not accept gets 401 {"errors":[{"message":"Invalid
// token"}]}. Queries go through the same client as REST requests, so the same authentication,
// throttle, request timeout, cancellation, retries and redacted logging apply; as a query changes
// nothing, it is retried like a GET although it is a POST.

// repeatableKey marks a request context whose request may be sent again whatever its method.
type repeatableKey struct{}

// repeatable marks ctx: its requests change nothing, so they may be repeated.
func repeatable(ctx context.Context) context.Context {
	return context.WithValue(ctx, repeatableKey{}, true)
}

// isRepeatable reports whether a request may be repeated: an idempotent method, or a context marked
// repeatable.
func isRepeatable(ctx context.Context, method string) bool {
	if idempotent(method) {
		return true
	}
	r, _ := ctx.Value(repeatableKey{}).(bool)
	return r
}

// graphQLError is one entry of "errors".
type graphQLError struct {
	Message string `json:"message"`
}

// graphQLResponse is the envelope of a GraphQL answer.
type graphQLResponse[T any] struct {
	Data   *T             `json:"data"`
	Errors []graphQLError `json:"errors"`
}

// graphQL sends a query (which must not be a mutation) and decodes its answer. An HTTP error comes back
// as explain's error, with GitLab's GraphQL error messages as what GitLab said.
func graphQL[T any](ctx context.Context, c *Client, action, query string, vars map[string]any, t Target) (*graphQLResponse[T], error) {
	req, err := c.api.NewRequest(http.MethodPost, "", gl.GraphQLQuery{Query: query, Variables: vars},
		[]gl.RequestOptionFunc{gl.WithContext(repeatable(ctx))})
	if err != nil {
		return nil, err
	}
	// client-go builds the URL under /api/v4; GraphQL is beside it.
	if p := strings.TrimSuffix(req.URL.Path, "/"); strings.HasSuffix(p, "/api/v4") {
		req.URL.Path = strings.TrimSuffix(p, "/api/v4") + gl.GraphQLAPIEndpoint
		req.URL.RawPath = ""
	}
	var out graphQLResponse[T]
	resp, err := c.api.Do(req, &out)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil && out.Data == nil && len(out.Errors) == 0 {
		// GitLab answers data, or errors saying why there is none; an answer with neither would read
		// as an empty result.
		problem := `it holds neither "data" nor "errors"`
		if start := strings.TrimSpace(answerStart(resp)); start == "{}" || start == "[]" {
			problem = emptyDocument(start) + ` (GitLab sends {"data":…})`
		}
		err = wrongObject(resp, http.StatusOK, problem)
	}
	if err != nil {
		var e *Error
		if !errors.As(explain(err, resp, action, t), &e) {
			return nil, err
		}
		var er *gl.ErrorResponse
		if errors.As(err, &er) {
			var body graphQLResponse[json.RawMessage]
			if json.Unmarshal(er.Body, &body) == nil && len(body.Errors) > 0 {
				msgs := make([]string, len(body.Errors))
				for i, ge := range body.Errors {
					msgs[i] = ge.Message
				}
				e.GitLabMessage = strings.Join(msgs, "; ")
			}
		}
		if e.Status == http.StatusUnauthorized && e.GitLabMessage == "Invalid token" {
			e.Detail = "GitLab's GraphQL API refused the token (401 \"Invalid token\"): it answers so to a token that " +
				"is unknown, expired or revoked, and to one without the `api` or `read_api` scope (a `read_user`, " +
				"`read_repository` or `k8s_proxy` token). Use a token with the `api` scope."
			e.Check = []Setting{SettingToken}
		}
		return nil, e
	}
	return &out, nil
}
