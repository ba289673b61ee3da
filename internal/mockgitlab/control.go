package mockgitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// controlPrefix is where the test control endpoints live. They need no authentication and are not
// recorded in the request log.
const controlPrefix = "/-/mock/"

// controlSettings is the body of PUT /-/mock/settings; absent fields are left unchanged.
type controlSettings struct {
	ReceptiveAgents        *bool           `json:"receptive_agents"`
	LegacyRevokedTokenGet  *bool           `json:"legacy_revoked_token_get"`
	RateLimit              json.RawMessage `json:"rate_limit"` // RateLimit, or null to turn it off
	RateLimitHeadersAlways *bool           `json:"rate_limit_headers_always"`
	Edition                *string         `json:"edition"`
	Licence                *string         `json:"licence"`
	CertificateEncoding    *string         `json:"certificate_encoding"`
	GitLabVersion          *string         `json:"gitlab_version"`
	PATsRestricted         *bool           `json:"personal_access_tokens_restricted"`
	KASEnabled             *bool           `json:"kas_enabled"`
	KASExternalURL         *string         `json:"kas_external_url"`
	KASExternalK8sProxyURL *string         `json:"kas_external_k8s_proxy_url"`
	KASVersion             *string         `json:"kas_version"`
}

// apply changes settings by the fields present in c.
func (c controlSettings) apply(settings SeedSettings) SeedSettings {
	if c.ReceptiveAgents != nil {
		settings.ReceptiveAgents = *c.ReceptiveAgents
	}
	if c.Edition != nil {
		settings.Edition = *c.Edition
		if c.Licence == nil {
			settings.Licence = "" // the new edition's default
		}
	}
	if c.Licence != nil {
		settings.Licence = *c.Licence
	}
	if c.CertificateEncoding != nil {
		settings.CertificateEncoding = *c.CertificateEncoding
	}
	if c.GitLabVersion != nil {
		settings.GitLabVersion = *c.GitLabVersion
	}
	if c.PATsRestricted != nil {
		settings.PersonalAccessTokensRestricted = *c.PATsRestricted
	}
	if c.KASEnabled != nil {
		settings.KASDisabled = !*c.KASEnabled
	}
	if c.KASExternalURL != nil {
		settings.KASExternalURL = *c.KASExternalURL
	}
	if c.KASExternalK8sProxyURL != nil {
		settings.KASExternalK8sProxyURL = *c.KASExternalK8sProxyURL
	}
	if c.KASVersion != nil {
		settings.KASVersion = *c.KASVersion
	}
	return settings
}

// serveControl handles the /-/mock/ endpoints:
//
//	GET    /-/mock/requests              request log as JSON
//	DELETE /-/mock/requests              reset the log
//	POST   /-/mock/tokens/{id}/use       mark used; optional {"at":"RFC3339"}, default now
//	POST   /-/mock/tokens/{id}/revoke    revoke
//	POST   /-/mock/tokens/{id}/age       {"duration":"720h"}: move created_at back
//	DELETE /-/mock/agents/{id}           delete an agent out of band
//	DELETE /-/mock/url_configurations/{id}  delete a URL configuration out of band (is_receptive follows)
//	PUT    /-/mock/projects/{id}/members/{username}  {"role":"reporter"}: set a member's role; "" or null removes
//	POST   /-/mock/projects/{id}/rename  {"path_with_namespace":"group/new"}: rename or move a project
//	GET    /-/mock/projects/{id}/files/{path}  a file on the default branch: {"file_path","content","last_commit_id"}
//	PUT    /-/mock/projects/{id}/files/{path}  {"content":"…","username":"developer","commit_message":"…"}: write
//	                                      it on the default branch as that user's git push (default root)
//	DELETE /-/mock/projects/{id}/files/{path}  optional {"username","commit_message"}: delete it by a push
//	PUT    /-/mock/projects/{id}/protected_branches/{branch}  {"push_access":"developer|maintainer|no_one"}
//	DELETE /-/mock/projects/{id}/protected_branches/{branch}  unprotect the branch
//	POST   /-/mock/agents/{id}/tokens    {"name":"…","description":"…","created_by_user_id":2}: an active token
//	                                      created as before GitLab 16.2, past the two-active-tokens limit
//	PUT    /-/mock/settings              {"receptive_agents":bool,"legacy_revoked_token_get":bool,
//	                                      "rate_limit":{"requests":N,"per_seconds":S} (null or 0 requests: off),
//	                                      "rate_limit_headers_always":bool,
//	                                      "edition":"ce|ee","licence":"free|premium|ultimate",
//	                                      "certificate_encoding":"pem|base64","gitlab_version":"17.6.2",
//	                                      "kas_enabled":bool,"kas_external_url":"wss://…",
//	                                      "kas_external_k8s_proxy_url":"https://…","kas_version":"17.6.2"}
//	                                      ("" for a KAS URL or version: the default); answers every setting
//	GET    /-/mock/agents/{id}/connections  the agent's agentk connections
//	POST   /-/mock/agents/{id}/connections  agentk connects: {"version","commit","pod_namespace","pod_name",
//	                                      "connection_id","connected_at","warnings":[{"message","type"}]},
//	                                      every field optional; answers the connection
//	DELETE /-/mock/agents/{id}/connections  every agentk of the agent disconnects
//	DELETE /-/mock/agents/{id}/connections/{connection_id}  one agentk disconnects
//	PUT    /-/mock/kas                   {"reachable":false}: GitLab cannot reach KAS (connections null plus
//	                                      "GRPC::Unavailable" in GraphQL, kas.version null); true restores
//	POST   /-/mock/faults                inject a Fault (snake_case JSON): {"method","pattern","status","count",
//	                                      "after_commit","body","headers","drop","delay_ms","answer"}; status
//	                                      is required unless drop, delay_ms or answer is set, and not allowed
//	                                      with drop (Fault says what drop and delay_ms do; answer is one of
//	                                      html, redirect, empty_object, empty_list, wrong_id: FaultAnswers)
//	DELETE /-/mock/faults                clear faults
//
// The rate-limit mode plays GitLab's throttle_authenticated_api: per user, fixed windows of per_seconds
// aligned to the Unix epoch (real time, not the settable clock); once a window's requests are used, API
// requests get 429 text/plain "Retry later\n" with RateLimit-* and Retry-After headers and change nothing.
// Control requests are never counted.
func (s *Server) serveControl(r *http.Request) *response {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, controlPrefix), "/")
	m := r.Method
	switch {
	case len(segs) == 1 && segs[0] == "requests":
		switch m {
		case http.MethodGet:
			reqs := s.Requests()
			if reqs == nil {
				reqs = []LoggedRequest{}
			}
			return jsonResponse(http.StatusOK, reqs)
		case http.MethodDelete:
			s.ResetRequests()
			return noContent()
		}
		return controlMethodNotAllowed()
	case len(segs) == 3 && segs[0] == "tokens":
		if m != http.MethodPost {
			return controlMethodNotAllowed()
		}
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "token id must be an integer")
		}
		return s.controlToken(r, id, segs[2])
	case len(segs) == 3 && segs[0] == "agents" && segs[2] == "tokens":
		if m != http.MethodPost {
			return controlMethodNotAllowed()
		}
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "agent id must be an integer")
		}
		var body struct {
			Name            string `json:"name"`
			Description     string `json:"description"`
			CreatedByUserID int64  `json:"created_by_user_id"`
		}
		if err := decodeControlBody(r, &body, true); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		info, err := s.CreateGrandfatheredToken(id, body.Name, body.Description, body.CreatedByUserID)
		if err != nil {
			return controlFailure(err)
		}
		info.Token = "" // the control API never shows secrets
		return jsonResponse(http.StatusCreated, info)
	case len(segs) == 2 && segs[0] == "agents":
		if m != http.MethodDelete {
			return controlMethodNotAllowed()
		}
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "agent id must be an integer")
		}
		if err := s.DeleteAgent(id); err != nil {
			return controlFailure(err)
		}
		return noContent()
	case len(segs) == 1 && segs[0] == "settings":
		if m != http.MethodPut {
			return controlMethodNotAllowed()
		}
		var body controlSettings
		if err := decodeControlBody(r, &body, false); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		limit, err := parseRateLimit(body.RateLimit)
		if err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		s.mu.Lock()
		settings := body.apply(s.settings)
		if err := validateSettings(settings); err != nil {
			s.mu.Unlock()
			return controlError(http.StatusBadRequest, err.Error())
		}
		if limit != nil {
			s.setRateLimit(limit.Requests, int64(limit.PerSeconds))
		}
		if body.RateLimitHeadersAlways != nil {
			s.rate.headersAlways = *body.RateLimitHeadersAlways
		}
		s.settings = settings.normalized()
		if body.LegacyRevokedTokenGet != nil {
			s.legacyRevokedTokenGet = *body.LegacyRevokedTokenGet
		}
		current := map[string]any{
			"receptive_agents":           s.settings.ReceptiveAgents,
			"legacy_revoked_token_get":   s.legacyRevokedTokenGet,
			"edition":                    s.settings.Edition,
			"licence":                    s.settings.Licence,
			"certificate_encoding":       s.settings.CertificateEncoding,
			"gitlab_version":             s.settings.GitLabVersion,
			"kas_enabled":                !s.settings.KASDisabled,
			"kas_external_url":           s.settings.KASExternalURL,
			"kas_external_k8s_proxy_url": s.settings.KASExternalK8sProxyURL,
			"kas_version":                s.settings.KASVersion,
		}
		current["rate_limit"], current["rate_limit_headers_always"] = s.rateLimitSetting(), s.rate.headersAlways
		s.mu.Unlock()
		return jsonResponse(http.StatusOK, current)
	case len(segs) == 1 && segs[0] == "faults":
		switch m {
		case http.MethodPost:
			var f Fault
			if err := decodeControlBody(r, &f, true); err != nil {
				return controlError(http.StatusBadRequest, err.Error())
			}
			if msg := checkFault(f); msg != "" {
				return controlError(http.StatusBadRequest, msg)
			}
			s.InjectFault(f)
			return jsonResponse(http.StatusCreated, f)
		case http.MethodDelete:
			s.ClearFaults()
			return noContent()
		}
		return controlMethodNotAllowed()
	}
	if resp := s.serveKASControl(r, segs); resp != nil {
		return resp
	}
	if resp := s.serveOutOfBand(r, segs); resp != nil {
		return resp
	}
	return controlError(http.StatusNotFound, "unknown mock control endpoint")
}

// controlToken runs one of the token actions.
func (s *Server) controlToken(r *http.Request, id int64, action string) *response {
	var err error
	switch action {
	case "use":
		var body struct {
			At *time.Time `json:"at"`
		}
		if err := decodeControlBody(r, &body, false); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		at := s.clock()
		if body.At != nil {
			at = *body.At
		}
		err = s.MarkTokenUsed(id, at)
	case "revoke":
		err = s.RevokeToken(id)
	case "age":
		var body struct {
			Duration string `json:"duration"`
		}
		if err := decodeControlBody(r, &body, true); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		d, perr := time.ParseDuration(body.Duration)
		if perr != nil {
			return controlError(http.StatusBadRequest, "duration: "+perr.Error())
		}
		err = s.AgeToken(id, d)
	default:
		return controlError(http.StatusNotFound, "unknown mock control endpoint")
	}
	if err != nil {
		return controlFailure(err)
	}
	info, _ := s.Token(id)
	info.Token = "" // the control API never shows secrets
	return jsonResponse(http.StatusOK, info)
}

// clock reads the server clock under the lock.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// decodeControlBody decodes a strict JSON body into v. An empty body is an error only when required.
func decodeControlBody(r *http.Request, v any, required bool) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return errors.New("a JSON body is required")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}

// controlError is the JSON error answer of the control endpoints.
func controlError(status int, msg string) *response {
	return jsonResponse(status, map[string]string{"error": msg})
}

// controlMethodNotAllowed answers a known control path with the wrong method.
func controlMethodNotAllowed() *response {
	return controlError(http.StatusMethodNotAllowed, "method not allowed")
}

// controlFailure maps an out-of-band error to 404 (not found) or 400.
func controlFailure(err error) *response {
	if errors.Is(err, ErrNotFound) {
		return controlError(http.StatusNotFound, err.Error())
	}
	return controlError(http.StatusBadRequest, err.Error())
}
