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

// Which GitLab serves receptive agents (URL configurations): Enterprise
// Edition 17.4 or later, with an Ultimate licence and the instance setting
// receptive_cluster_agents_enabled. GitLab does not say which is missing when
// a URL-configuration request fails: a Community Edition, or a GitLab before
// 17.4, has no such route ({"error":"404 Not Found"}), and an Enterprise
// Edition without the licence or the setting answers {"message":"404 Not
// Found"} to both. The client asks what else GitLab tells: GET /metadata (the
// edition and version, to every user) and, for administrators, GET /license
// (the plan). With an Ultimate licence, a closed gate means the setting is
// off. GET /application/settings would tell the setting directly, but it
// holds the instance's secrets, which must not reach even a TRACE log.

// receptiveAgentsSince is the GitLab version that brought URL configurations.
const receptiveAgentsSince = "17.4"

// ReceptiveGap is why an instance does not serve URL configurations.
type ReceptiveGap int

const (
	GapUnknown          ReceptiveGap = iota // GitLab did not tell
	GapEdition                              // Community Edition
	GapVersion                              // Enterprise Edition before 17.4
	GapLicence                              // no Ultimate licence (the setting is on)
	GapSetting                              // the setting is off (the licence is Ultimate)
	GapLicenceOrSetting                     // one or both; only an administrator can tell which
)

// instanceFacts is what GitLab told about itself; empty fields were not told.
type instanceFacts struct {
	version    string // e.g. "17.6.2-ee"
	enterprise *bool
	plan       *string // licence plan, "" without a licence (administrators only, Enterprise Edition)
}

// editionName is "Community Edition", "Enterprise Edition" or "".
func (f instanceFacts) editionName() string {
	switch {
	case f.enterprise == nil:
		return ""
	case *f.enterprise:
		return "Enterprise Edition"
	}
	return "Community Edition"
}

// describe is e.g. "GitLab Enterprise Edition 17.6.2-ee", or "this GitLab".
func (f instanceFacts) describe() string {
	parts := []string{"GitLab"}
	if e := f.editionName(); e != "" {
		parts = append(parts, e)
	}
	if f.version != "" {
		parts = append(parts, f.version)
	}
	if len(parts) == 1 {
		return "this GitLab"
	}
	return strings.Join(parts, " ")
}

// olderThan reports whether the version is known and before major.minor.
func (f instanceFacts) olderThan(minimum string) bool {
	have, ok := majorMinor(f.version)
	want, _ := majorMinor(minimum)
	return ok && (have[0] < want[0] || have[0] == want[0] && have[1] < want[1])
}

// majorMinor reads "17.6.2-ee" as [17 6].
func majorMinor(v string) ([2]int, bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return [2]int{}, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return [2]int{}, false
	}
	return [2]int{major, minor}, true
}

// instanceFacts asks GitLab about itself, once per client: the edition and
// version from GET /metadata (the client's one read of it), and, if the token is an administrator's, the
// licence from GET /license. What cannot be read stays unknown.
func (c *Client) instanceFacts(ctx context.Context) instanceFacts {
	c.mu.Lock()
	if c.facts != nil {
		f := *c.facts
		c.mu.Unlock()
		return f
	}
	c.mu.Unlock()

	var f instanceFacts
	if meta, err := c.Metadata(ctx); err == nil {
		f.version, f.enterprise = meta.Version, meta.Enterprise
		if f.enterprise == nil && f.version != "" {
			ee := strings.HasSuffix(f.version, "-ee")
			f.enterprise = &ee
		}
	}
	if f.enterprise == nil || *f.enterprise {
		var licence *struct {
			Plan string `json:"plan"`
		}
		if resp, err := c.send(ctx, http.MethodGet, "license", nil, &licence); checkAnswer(resp, err, http.StatusOK) == nil {
			plan := ""
			if licence != nil {
				plan = strings.ToLower(licence.Plan)
			}
			f.plan = &plan
		}
	}
	if ctx.Err() == nil {
		c.mu.Lock()
		c.facts = &f
		c.mu.Unlock()
	}
	return f
}

// receptiveGapOf says what is missing, from GitLab's answer (an unknown route,
// or the {"message":"404 Not Found"} of a closed gate) and the facts.
func receptiveGapOf(routeMissing bool, f instanceFacts) ReceptiveGap {
	switch {
	case routeMissing && f.enterprise != nil && !*f.enterprise:
		return GapEdition
	case routeMissing && f.olderThan(receptiveAgentsSince):
		return GapVersion
	case routeMissing:
		return GapUnknown
	case f.plan == nil:
		return GapLicenceOrSetting
	case *f.plan != "ultimate":
		return GapLicence
	}
	return GapSetting // Ultimate, and still closed: the setting is off
}

// How to switch receptive agents on.
const (
	settingHowTo = "an administrator turns on the instance setting `receptive_cluster_agents_enabled` (off by " +
		"default) in Admin > Settings > General > GitLab agent for Kubernetes, or with the application settings " +
		"API: PUT /api/v4/application/settings?receptive_cluster_agents_enabled=true"
	licenceHowTo = "the instance needs a GitLab Ultimate licence (Admin > Subscription); receptive agents are an " +
		"Ultimate feature of self-managed GitLab"
)

// unavailableSummary starts the summary of every "receptive agents are not available" error.
const unavailableSummary = "Receptive agents are not available"

// IsUnavailable reports whether an error says that the GitLab instance does
// not serve URL configurations (edition, version, licence or setting), as
// opposed to a configuration or an agent that does not exist. Such an error
// never means that a configuration is gone.
func IsUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && strings.HasPrefix(e.Summary, unavailableSummary)
}

// unavailableError explains that the instance does not serve URL
// configurations: which edition, version, licence or setting is missing, as
// far as GitLab tells, and how to change that.
func (c *Client) unavailableError(ctx context.Context, err error, resp *gl.Response, action string, t Target) *Error {
	e := &Error{Status: http.StatusNotFound, GitLabMessage: gateMessage, err: err}
	raw := ""
	if resp != nil && resp.Response != nil {
		raw = resp.Header.Get(messageHeader)
		if raw != "" {
			e.GitLabMessage = bodyMessage([]byte(raw))
		}
	}
	routeMissing := strings.HasPrefix(raw, `{"error":`)
	f := c.instanceFacts(ctx)
	answer := fmt.Sprintf("GitLab answered 404 %q when asked to %s (%s)", e.GitLabMessage, action, t.String())
	whole := fmt.Sprintf("Receptive agents (URL configurations) need GitLab Enterprise Edition %s or later, "+
		"self-managed, with an Ultimate licence and the instance setting `receptive_cluster_agents_enabled` "+
		"turned on.", receptiveAgentsSince)
	var what string
	e.Kind, e.Gap = KindReceptiveAgentsUnavailable, receptiveGapOf(routeMissing, f)
	switch e.Gap {
	case GapEdition:
		what = "the Community Edition has none"
		e.Detail = fmt.Sprintf("%s: it has no URL-configuration API, because %s is the Community Edition. %s "+
			"Agents and their tokens work without URL configurations.", answer, f.describe(), whole)
	case GapVersion:
		what = fmt.Sprintf("GitLab %s is older than %s", f.version, receptiveAgentsSince)
		e.Detail = fmt.Sprintf("%s: it has no URL-configuration API, because %s predates GitLab %s, which "+
			"brought receptive agents. %s Upgrade GitLab, or do without URL configurations.", answer, f.describe(), receptiveAgentsSince, whole)
	case GapLicence:
		what = "this GitLab has no Ultimate licence"
		licence := "no licence"
		if f.plan != nil && *f.plan != "" {
			licence = "a " + upperFirst(*f.plan) + " licence"
		}
		e.Detail = fmt.Sprintf("%s, as GitLab does on every URL-configuration endpoint without an Ultimate licence. "+
			"%s has %s, but %s. With Ultimate, the instance setting `receptive_cluster_agents_enabled` must be on "+
			"too: %s. %s", answer, upperFirst(f.describe()), licence, licenceHowTo, settingHowTo, whole)
	case GapSetting:
		what = "the instance setting receptive_cluster_agents_enabled is off"
		e.Detail = fmt.Sprintf("%s, as GitLab does on every URL-configuration endpoint while the instance setting "+
			"`receptive_cluster_agents_enabled` is off (the instance has an Ultimate licence). To use receptive "+
			"agents on %s, %s. Then run again.", answer, f.describe(), settingHowTo)
	case GapLicenceOrSetting:
		what = "no Ultimate licence, or receptive_cluster_agents_enabled is off"
		e.Detail = fmt.Sprintf("%s, as GitLab does on every URL-configuration endpoint when the instance has no "+
			"Ultimate licence or when the instance setting `receptive_cluster_agents_enabled` is off. GitLab gives "+
			"the same answer to both, and only an administrator can tell which applies (GitLab did not show this "+
			"token the instance's licence: it is not an administrator's). %s\n  - Licence: %s.\n  - Setting: %s.\nOnce both are in place, run again.",
			answer, whole, licenceHowTo, settingHowTo)
	default:
		what = "GitLab does not serve them"
		e.Detail = fmt.Sprintf("%s, as it does on every URL-configuration endpoint when receptive agents are not "+
			"available. %s\n  - Licence: %s.\n  - Setting: %s.\nA GitLab without the URL-configuration API at all "+
			"(the Community Edition, or GitLab before %s) answers the same. Once everything is in place, run "+
			"again; if it already is, check the API URL and that %s exists.", answer, whole, licenceHowTo,
			settingHowTo, receptiveAgentsSince, agentOf(t))
	}
	if e.Gap == GapUnknown {
		e.Check = []Setting{SettingURL}
	}
	e.Summary = fmt.Sprintf("%s: %s (failed to %s)", unavailableSummary, what, action)
	return e
}
