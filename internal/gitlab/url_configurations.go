package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// client-go has no URL-configuration API (receptive agents, GitLab 17.4+
// Ultimate): these methods add it on top of c.send, so the requests share the
// client's authentication, retries, logging and error handling.

// URLConfiguration is a receptive agent's URL configuration as GitLab returns
// it. GitLab always sends all seven keys, null when unset, and never the
// client key. Certificates are PEM: the client decodes GitLab 17.x's Base64.
type URLConfiguration struct {
	ID         int64   `json:"id"`
	AgentID    int64   `json:"agent_id"`
	URL        string  `json:"url"`
	PublicKey  *string `json:"public_key"`
	ClientCert *string `json:"client_cert"`
	CACert     *string `json:"ca_cert"`
	TLSHost    *string `json:"tls_host"`
}

// AuthType is "mtls" when GitLab authenticates to the agent with a client
// certificate, else "jwt" (GitLab signs JWTs with its own Ed25519 key, whose
// public half is PublicKey).
func (u *URLConfiguration) AuthType() string {
	if u.ClientCert != nil {
		return "mtls"
	}
	return "jwt"
}

// CreateURLConfigurationOptions is the body of the create request.
// Certificates and the key are PEM; CreateURLConfiguration sends them in the
// form the GitLab at hand takes (raw, or Base64-encoded on GitLab 17.x). ClientKey is a secret: request bodies
// are never logged, and String / GoString leave it out, so printing the
// options with fmt cannot leak it either.
type CreateURLConfigurationOptions struct {
	URL        string  `json:"url"`
	ClientCert *string `json:"client_cert,omitempty"`
	ClientKey  *string `json:"client_key,omitempty"`
	CACert     *string `json:"ca_cert,omitempty"`
	TLSHost    *string `json:"tls_host,omitempty"`
}

// String describes the options without the client key.
func (o CreateURLConfigurationOptions) String() string {
	key := "<nil>"
	if o.ClientKey != nil {
		key = redacted
	}
	return fmt.Sprintf("{URL:%q ClientCert:%s ClientKey:%s CACert:%s TLSHost:%s}",
		o.URL, present(o.ClientCert), key, present(o.CACert), quoted(o.TLSHost))
}

// GoString is String, for %#v.
func (o CreateURLConfigurationOptions) GoString() string { return o.String() }

func present(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("(%d bytes)", len(*s))
}

func quoted(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}

// alreadyExistsMessage is in GitLab's 400 answer to a second configuration.
const alreadyExistsMessage = "URL configuration already exists"

// gateMessage is what GitLab answers, as {"message":"404 Not Found"}, on
// every URL-configuration endpoint when receptive agents are off (instance
// setting or licence), and on the get and delete of a configuration the agent
// does not have. A missing agent is "404 Not found", lower-case f.
const gateMessage = "404 Not Found"

func urlConfigurationsPath(project string, agentID int64) string {
	return agentPath(project, agentID) + "/url_configurations"
}

func urlConfigurationTarget(project string, agentID, id int64) Target {
	t := agentTarget(project, agentID)
	if id > 0 {
		t.Object = "URL configuration " + strconv.FormatInt(id, 10)
	} else {
		t.Object = "URL configuration"
	}
	return t
}

// ListURLConfigurations reads the agent's URL configurations: none or one
// (GitLab allows one per agent). The list is not paginated.
func (c *Client) ListURLConfigurations(ctx context.Context, project string, agentID int64) ([]*URLConfiguration, error) {
	var list []*URLConfiguration
	resp, err := c.send(ctx, http.MethodGet, urlConfigurationsPath(project, agentID), nil, &list)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		for _, u := range list {
			if u == nil || u.ID <= 0 || u.AgentID != agentID {
				err = wrongObject(resp, http.StatusOK, fmt.Sprintf("it lists a URL configuration that is not one of agent %d", agentID))
				break
			}
		}
	}
	if err != nil {
		action := fmt.Sprintf("list the URL configurations of agent %d", agentID)
		target := agentTarget(project, agentID)
		if routeMissing(resp) || plainNotFound(resp) {
			// A missing agent is "404 Not found"; "404 Not Found" here is the gate.
			return nil, c.unavailableError(ctx, err, resp, action, target)
		}
		return nil, explainURLConfiguration(err, resp, action, target)
	}
	for _, u := range list {
		c.sawEncoding(u.decodeCertificates())
	}
	return list, nil
}

// GetURLConfiguration reads one URL configuration. GitLab answers the same
// 404 "404 Not Found" when the agent has no such configuration and when
// receptive agents are off; on that answer the agent's configurations are
// listed to tell the two apart. When the configuration does not exist,
// IsNotFound(err) is true; when receptive agents are off, it is false and the
// error says how to turn them on.
func (c *Client) GetURLConfiguration(ctx context.Context, project string, agentID, id int64) (*URLConfiguration, error) {
	var u URLConfiguration
	resp, err := c.send(ctx, http.MethodGet, fmt.Sprintf("%s/%d", urlConfigurationsPath(project, agentID), id), nil, &u)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		problem := objectProblem(resp, "URL configuration", u.ID, id)
		if problem == "" && u.AgentID != agentID {
			problem = fmt.Sprintf("it describes a URL configuration of agent %d, not of agent %d", u.AgentID, agentID)
		}
		if problem != "" {
			err = wrongObject(resp, http.StatusOK, problem)
		}
	}
	if err == nil {
		c.sawEncoding(u.decodeCertificates())
		return &u, nil
	}
	action := fmt.Sprintf("read URL configuration %d", id)
	target := urlConfigurationTarget(project, agentID, id)
	if routeMissing(resp) {
		return nil, c.unavailableError(ctx, err, resp, action, target)
	}
	explained := explainURLConfiguration(err, resp, action, target)
	if isMissing(explained) && !plainNotFound(resp) {
		// "404 Not found": the agent is not there, or may not be seen.
		return nil, c.confirmAgentGone(ctx, project, agentID, explained)
	}
	if !plainNotFound(resp) {
		return nil, explained
	}
	list, listErr := c.ListURLConfigurations(ctx, project, agentID)
	switch {
	case listErr != nil && IsUnavailable(listErr):
		return nil, c.unavailableError(ctx, err, resp, action, target)
	case listErr != nil:
		return nil, explained
	}
	return nil, configurationGone(explained, project, agentID, id, list)
}

// configurationGone words the 404 for configuration id once the agent's
// configurations were listed: it was deleted, perhaps replaced by another.
func configurationGone(notFound error, project string, agentID, id int64, list []*URLConfiguration) error {
	var e *Error
	if !errors.As(notFound, &e) {
		return notFound
	}
	gone := *e
	gone.gone = true // the agent's configurations were listed without it
	if len(list) == 0 {
		gone.Detail = fmt.Sprintf("Agent %d of project %q has no URL configuration at all, so configuration %d "+
			"does not exist (any more).", agentID, project, id)
	} else {
		gone.Detail = fmt.Sprintf("Agent %d of project %q has no URL configuration %d: its URL configuration is "+
			"%d (%s).", agentID, project, id, list[0].ID, describeURLConfiguration(list[0]))
	}
	return &gone
}

// CreateURLConfiguration creates the agent's URL configuration with one POST:
// JWT authentication without a client certificate (GitLab generates a key
// pair and returns its public key), mTLS with ClientCert and ClientKey.
// Certificates and the key are given as PEM; they are sent in the form this
// GitLab takes (see certificate_encoding.go): when GitLab refuses them as not
// valid PEM, which creates nothing, the POST is sent once more in the other
// form. The answer's certificates are PEM.
//
// A POST whose outcome is unknown (a 5xx or no answer) is never repeated: the
// agent's configurations are listed, and one matching the request is taken as
// the one this request created.
func (c *Client) CreateURLConfiguration(ctx context.Context, project string, agentID int64, opt *CreateURLConfigurationOptions) (*URLConfiguration, error) {
	u, _, err := c.CreateOrRecoverURLConfiguration(ctx, project, agentID, opt)
	return u, err
}

// CreateOrRecoverURLConfiguration is CreateURLConfiguration, and also
// reports whether the configuration returned was found by listing the
// agent's configurations after the create's answer was lost (recovered).
func (c *Client) CreateOrRecoverURLConfiguration(ctx context.Context, project string, agentID int64, opt *CreateURLConfigurationOptions) (u *URLConfiguration, recovered bool, err error) {
	action := fmt.Sprintf("create the URL configuration of agent %d", agentID)
	target := urlConfigurationTarget(project, agentID, 0)
	form := c.encodingToSend()
	u, resp, err := c.postURLConfiguration(ctx, project, agentID, opt.encoded(form))
	var refused error // GitLab's refusal of the first form, when the other was tried
	if err != nil && opt.hasCertificates() && StatusCode(err) == http.StatusBadRequest {
		first := explainURLConfiguration(err, resp, action, target)
		if refusedAsNotPEM(Message(first)) {
			refused, form = first, form.other()
			u, resp, err = c.postURLConfiguration(ctx, project, agentID, opt.encoded(form))
		}
	}
	if err == nil {
		c.sawEncoding(form)
		u.decodeCertificates()
		return u, false, nil
	}
	if routeMissing(resp) || plainNotFound(resp) {
		// A missing agent is "404 Not found"; "404 Not Found" here is the gate.
		return nil, false, c.unavailableError(ctx, err, resp, action, target)
	}
	explained := explainURLConfiguration(err, resp, action, target)
	status := StatusCode(explained)
	var e *Error
	switch {
	case errors.As(explained, &e) && e.NotSent:
		e.Detail += fmt.Sprintf(" The URL configuration of agent %d was not created, and nothing is left behind: run again.", agentID)
		return nil, false, e
	case e != nil && e.Answer != nil:
		// Not GitLab's answer: GitLab may have created the configuration.
		u, err := c.reconcileURLConfiguration(ctx, project, agentID, opt, explained)
		return u, u != nil, err
	case status == http.StatusBadRequest && strings.Contains(Message(explained), alreadyExistsMessage):
		return nil, false, c.alreadyExistsError(ctx, project, agentID, explained)
	case status == http.StatusBadRequest && refused != nil && refusedAsNotPEM(Message(explained)):
		return nil, false, refusedInBothForms(refused, explained, form)
	case status == 0 || status >= http.StatusInternalServerError:
		u, err := c.reconcileURLConfiguration(ctx, project, agentID, opt, explained)
		return u, u != nil, err
	}
	return nil, false, explained
}

// postURLConfiguration sends one create request as it is.
func (c *Client) postURLConfiguration(ctx context.Context, project string, agentID int64, wire *CreateURLConfigurationOptions) (*URLConfiguration, *gl.Response, error) {
	var u URLConfiguration
	if err := notSentContext(ctx); err != nil {
		return nil, nil, err
	}
	resp, err := c.send(ctx, http.MethodPost, urlConfigurationsPath(project, agentID), wire, &u)
	if err = checkAnswer(resp, err, http.StatusCreated); err == nil {
		mismatch := ""
		switch {
		case u.AgentID != agentID:
			mismatch = fmt.Sprintf("it describes a URL configuration of agent %d, not of agent %d", u.AgentID, agentID)
		case u.URL != wire.URL:
			mismatch = fmt.Sprintf("it describes a URL configuration for %q, not the %q asked for", u.URL, wire.URL)
		}
		if problem := newObjectProblem(resp, "URL configuration", u.ID, mismatch); problem != "" {
			err = wrongObject(resp, http.StatusCreated, problem)
		}
	}
	if err != nil {
		return nil, resp, err
	}
	return &u, resp, nil
}

// refusedInBothForms explains that GitLab refused the certificates as raw PEM
// and as Base64-encoded PEM: they are not what GitLab accepts in either form.
func refusedInBothForms(first, second error, secondForm certificateEncoding) error {
	var e *Error
	if !errors.As(second, &e) {
		return second
	}
	out := *e
	out.Kind = KindCertificatesRefused
	firstForm := secondForm.other()
	out.Detail = fmt.Sprintf("GitLab refused the certificates or the key in both forms it may take: as %s (%s) "+
		"and as %s (%s). Nothing was created. The client certificate, its key and the CA certificate must each be "+
		"PEM (-----BEGIN CERTIFICATE----- / -----BEGIN PRIVATE KEY----- blocks) that OpenSSL can read.",
		firstForm, validationMessages(Message(first)), secondForm, validationMessages(Message(second)))
	return &out
}

// DeleteURLConfiguration deletes a URL configuration. One that no longer
// exists (or whose agent no longer exists) is not an error, but a 404 because
// receptive agents were turned off is: the configuration may still exist.
func (c *Client) DeleteURLConfiguration(ctx context.Context, project string, agentID, id int64) error {
	resp, err := c.send(ctx, http.MethodDelete, fmt.Sprintf("%s/%d", urlConfigurationsPath(project, agentID), id), nil, nil)
	if err = checkAnswer(resp, err, http.StatusNoContent); err == nil {
		return nil
	}
	action := fmt.Sprintf("delete URL configuration %d", id)
	target := urlConfigurationTarget(project, agentID, id)
	unavailable := func() error {
		e := c.unavailableError(ctx, err, resp, action, target)
		e.Detail += " Until then the configuration cannot be deleted and may still exist in GitLab."
		return e
	}
	if routeMissing(resp) {
		return unavailable()
	}
	if plainNotFound(resp) {
		// The configuration is gone, unless the whole API is switched off.
		if _, listErr := c.ListURLConfigurations(ctx, project, agentID); listErr != nil && IsUnavailable(listErr) {
			return unavailable()
		}
		return nil
	}
	if isGone(resp) {
		return nil // the agent was deleted, and its configuration with it
	}
	return explainURLConfiguration(err, resp, action, target)
}

// plainNotFound reports GitLab's {"message":"404 Not Found"}: its answer on
// every URL-configuration endpoint when receptive agents are off, and on the
// get and delete of a configuration the agent does not have.
func plainNotFound(resp *gl.Response) bool {
	raw := notFoundBody(resp)
	return strings.HasPrefix(raw, `{"message":`) && bodyMessage([]byte(raw)) == gateMessage
}

// routeMissing reports GitLab's {"error":"404 Not Found"} for a route it does
// not have at all: GitLab before 17.4, or an edition without the
// URL-configuration API.
func routeMissing(resp *gl.Response) bool {
	raw := notFoundBody(resp)
	return strings.HasPrefix(raw, `{"error":`) && bodyMessage([]byte(raw)) == gateMessage
}

func notFoundBody(resp *gl.Response) string {
	if resp == nil || resp.Response == nil || resp.StatusCode != http.StatusNotFound {
		return ""
	}
	return resp.Header.Get(messageHeader)
}

func agentOf(t Target) string {
	t.Object = ""
	return t.String()
}

// explainURLConfiguration is explain, with the rule GitLab applies to these
// endpoints: every one of them, reads included, needs the Maintainer role.
func explainURLConfiguration(err error, resp *gl.Response, action string, t Target) error {
	explained := explain(err, resp, action, t)
	var e *Error
	if errors.As(explained, &e) && e.Status == http.StatusForbidden && !strings.Contains(e.GitLabMessage, "insufficient_scope") {
		said := ""
		if e.GitLabMessage != "" {
			said = fmt.Sprintf(" GitLab said: %q.", e.GitLabMessage)
		}
		e.Detail = fmt.Sprintf("The token's user is not allowed to %s (403 Forbidden) on %s.%s GitLab requires "+
			"at least the Maintainer role on the project for every URL-configuration request, reads included "+
			"(a Developer gets 403 even though GitLab's documentation says Developers may read them): use a token "+
			"of a Maintainer or Owner of the project.", action, t.String(), said)
	}
	return explained
}

// alreadyExistsError explains GitLab's refusal of a second configuration,
// naming the existing one and the command that imports it.
func (c *Client) alreadyExistsError(ctx context.Context, project string, agentID int64, cause error) error {
	var base *Error
	if !errors.As(cause, &base) {
		return cause
	}
	e := *base
	e.Kind, e.Project, e.AgentID = KindURLConfigurationExists, project, agentID
	e.Summary = fmt.Sprintf("Agent %d already has a URL configuration", agentID)
	said := fmt.Sprintf(" GitLab said: %q.", e.GitLabMessage)
	list, err := c.ListURLConfigurations(ctx, project, agentID)
	if err != nil || len(list) == 0 {
		e.Detail = fmt.Sprintf("GitLab allows one URL configuration per agent, and agent %d of project %q already "+
			"has one.%s Nothing was created, and the agent's URL configurations could not be listed.",
			agentID, project, said)
		return &e
	}
	existing := list[0]
	e.Existing, e.ExistingID = existing, existing.ID
	e.Detail = fmt.Sprintf("GitLab allows one URL configuration per agent, and agent %d of project %q already has "+
		"one: url_configuration_id %d, %s.%s Nothing was created.",
		agentID, project, existing.ID, describeURLConfiguration(existing), said)
	return &e
}

// describeURLConfiguration renders a configuration for a message; it holds no secret.
func describeURLConfiguration(u *URLConfiguration) string {
	auth := "JWT authentication"
	if u.AuthType() == "mtls" {
		auth = "mTLS authentication"
	}
	return fmt.Sprintf("url %q, %s", u.URL, auth)
}

// reconcileURLConfiguration handles a create whose outcome is unknown:
// GitLab may have created the configuration and lost the answer. The agent
// has at most one; if it matches the request it is the one this request
// created, and is returned as if the POST had succeeded.
func (c *Client) reconcileURLConfiguration(ctx context.Context, project string, agentID int64, opt *CreateURLConfigurationOptions, cause error) (*URLConfiguration, error) {
	var base *Error
	if !errors.As(cause, &base) {
		return nil, cause
	}
	e := *base
	e.Project, e.AgentID = project, agentID
	list, err := c.ListURLConfigurations(ctx, project, agentID)
	switch {
	case err != nil:
		e.Kind = KindURLConfigurationUnknown
		e.Detail = fmt.Sprintf("%s Whether GitLab created the URL configuration is unknown, and listing the "+
			"agent's URL configurations to find out failed (%v).", base.Detail, err)
	case len(list) == 0:
		e.Detail = fmt.Sprintf("%s The agent's URL configurations were checked: GitLab created none, so "+
			"nothing is left behind. Run again.", base.Detail)
	case matchesRequest(list[0], opt):
		return list[0], nil
	default:
		e.Kind, e.Existing, e.ExistingID = KindURLConfigurationUnknown, list[0], list[0].ID
		e.Detail = fmt.Sprintf("%s Whether GitLab created the URL configuration is unknown; agent %d now has "+
			"URL configuration %d (%s), which differs from the one requested.", base.Detail, agentID, list[0].ID,
			describeURLConfiguration(list[0]))
	}
	return nil, &e
}

// matchesRequest reports whether a configuration is what opt asked for (the
// client key aside, which GitLab never returns).
func matchesRequest(u *URLConfiguration, opt *CreateURLConfigurationOptions) bool {
	if opt == nil {
		return false
	}
	same := func(a, b *string) bool {
		return strings.TrimSpace(valueOf(a)) == strings.TrimSpace(valueOf(b))
	}
	sameCerts := func(a, b *string) bool {
		return (a == nil) == (b == nil) && (a == nil || SameCertificates(*a, *b))
	}
	return u.URL == opt.URL && sameCerts(u.ClientCert, nullIfBlank(opt.ClientCert)) &&
		sameCerts(u.CACert, nullIfBlank(opt.CACert)) && same(u.TLSHost, opt.TLSHost) &&
		(u.ClientCert != nil) == (opt.ClientKey != nil)
}

func nullIfBlank(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return s
}

func valueOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
