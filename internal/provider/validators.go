package provider

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// agentNameFormat is GitLab's cluster_agent_name_regex: a DNS label.
var agentNameFormat = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// maxAgentNameLength is GitLab's limit on agent names.
const maxAgentNameLength = 63

// agentNameProblems returns GitLab's own messages for an invalid agent name.
func agentNameProblems(name string) []string {
	var problems []string
	if name == "" {
		problems = append(problems, "Name can't be blank")
	}
	if len(name) > maxAgentNameLength {
		problems = append(problems, fmt.Sprintf("Name is too long (maximum is %d characters)", maxAgentNameLength))
	}
	if !agentNameFormat.MatchString(name) {
		problems = append(problems, "Name can contain only lowercase letters, digits, and '-', but cannot start or end with '-'")
	}
	return problems
}

type agentNameValidator struct{}

func (agentNameValidator) Description(context.Context) string {
	return "lowercase letters, digits and '-', not starting or ending with '-', at most 63 characters"
}

func (v agentNameValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (agentNameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	name := req.ConfigValue.ValueString()
	if problems := agentNameProblems(name); len(problems) > 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid agent name",
			fmt.Sprintf("%q is not a valid agent name: %s. An agent name is a DNS label, e.g. \"production-eu\".",
				name, strings.Join(problems, "; ")))
	}
}

type projectValidator struct{}

func (projectValidator) Description(context.Context) string {
	return "a numeric project ID or a full project path such as group/subgroup/project"
}

func (v projectValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (projectValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if problem := projectProblem(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid project", problem)
	}
}

// projectProblem says what is wrong with a project reference, or "".
func projectProblem(p string) string {
	if id, err := strconv.ParseInt(p, 10, 64); err == nil {
		if id <= 0 {
			return fmt.Sprintf("%q is not a project ID: use a positive number or the project's full path.", p)
		}
		return ""
	}
	switch {
	case p == "":
		return "`project` is empty: give the numeric project ID or its full path, e.g. \"group/project\"."
	case strings.TrimSpace(p) != p:
		return fmt.Sprintf("%q has leading or trailing spaces: remove them.", p)
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//"):
		return fmt.Sprintf("%q is not a project path: write it as group/subgroup/project, without leading, "+
			"trailing or doubled slashes.", p)
	case !strings.Contains(p, "/"):
		return fmt.Sprintf("%q is neither a numeric ID nor a full path: GitLab needs the namespace too, e.g. "+
			"\"my-group/%s\", or the numeric project ID.", p, p)
	case strings.ContainsFunc(p, unicode.IsControl):
		return fmt.Sprintf("%q is not a project path: it contains a control character (a NUL, tab, line "+
			"break or the like), which no GitLab path has.", p)
	case strings.ContainsAny(p, ": "):
		return fmt.Sprintf("%q is not a project path: paths contain no spaces or ':'.", p)
	}
	for _, segment := range strings.Split(p, "/") {
		if segment == "." || segment == ".." {
			return fmt.Sprintf("%q is not a project path: a GitLab namespace or project is never named %q. "+
				"Write the full path, group/subgroup/project.", p, segment)
		}
	}
	return ""
}

type pemCertificatesValidator struct{}

// pemCertificates validates a string holding one or more PEM certificates.
func pemCertificates() validator.String { return pemCertificatesValidator{} }

func (pemCertificatesValidator) Description(context.Context) string {
	return "one or more PEM-encoded X.509 certificates"
}

func (v pemCertificatesValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (pemCertificatesValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := parsePEMCertificates(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid PEM certificate", err.Error())
	}
}

// parsePEMCertificates checks that s holds at least one PEM certificate and
// nothing else that is PEM.
func parsePEMCertificates(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("found a PEM block of type %q where certificates were expected: give only "+
				"-----BEGIN CERTIFICATE----- blocks", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate %d does not parse: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no PEM certificate found: give one or more -----BEGIN CERTIFICATE----- blocks")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return fmt.Errorf("text after the last certificate is not PEM: remove it")
	}
	return nil
}

// apiTokenProblem says what is wrong with a GitLab API token once white space
// around it is trimmed, or "". It never quotes the token.
func apiTokenProblem(token string) string {
	for _, r := range token {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "The token contains white space or control characters inside it, which no GitLab token does: " +
				"check that the value is the token alone (a file read with file() may hold more than the token)."
		}
	}
	return ""
}

type apiTokenValidator struct{}

// apiToken checks the provider's `token` at plan time.
func apiToken() validator.String { return apiTokenValidator{} }

func (apiTokenValidator) Description(context.Context) string {
	return "a GitLab access token; white space around it is ignored"
}

func (v apiTokenValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (apiTokenValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if problem := apiTokenProblem(strings.TrimSpace(req.ConfigValue.ValueString())); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid GitLab token", problem)
	}
}

type baseURLValidator struct{}

// baseURL checks the provider's `base_url` at plan time.
func baseURL() validator.String { return baseURLValidator{} }

func (baseURLValidator) Description(context.Context) string {
	return "an http(s) URL of a GitLab instance, with or without /api/v4"
}

func (v baseURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (baseURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := gitlab.NormalizeBaseURL(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid GitLab URL", err.Error()+".")
	}
}

type durationBetweenValidator struct{ min, max time.Duration }

// durationBetween validates a Go duration string within [minimum, maximum].
func durationBetween(minimum, maximum time.Duration) validator.String {
	return durationBetweenValidator{minimum, maximum}
}

func (v durationBetweenValidator) Description(context.Context) string {
	return fmt.Sprintf("a Go duration between %s and %s, such as \"30s\" or \"2m\"", v.min, v.max)
}

func (v durationBetweenValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v durationBetweenValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is not a duration: write a number with a unit, e.g. \"30s\", \"90m\" or \"720h\"; "+
				"units are h, m and s (there is no unit for days: 30 days is \"720h\").", s))
	case d < v.min:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is shorter than %s: give at least %s.", s, v.min, v.min))
	case d > v.max:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is longer than %s: give at most %s.", s, v.max, v.max))
	}
}
