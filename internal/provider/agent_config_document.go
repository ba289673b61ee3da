package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"sigs.k8s.io/yaml"
)

// An agent configuration document is the agent's config.yaml as GitLab's agent server (KAS) reads it:
// YAML converted to JSON with sigs.k8s.io/yaml, then parsed strictly (unknown keys are errors) into its
// ConfigurationFile message. Here a document is that JSON as Go values: map[string]any, []any, string,
// bool, float64 (numbers) and nil, with unknownValue standing for a value Terraform does not know yet.
//
// The typed attributes of gitlabagent_cluster_agent_config have exactly the names of the YAML keys, so a
// document is built from them generically (valueToDoc) and read back into them (docToValue).

// unknownValue marks a value unknown at plan time inside a document.
type unknownValue struct{}

// agentConfigHeader starts every file the provider writes.
const agentConfigHeader = "# Managed by Terraform (gitlabagent_cluster_agent_config): changes made here are\n" +
	"# reverted by the next apply. Edit the Terraform configuration instead.\n"

// maxConfigFileBytes is KAS's default agent.configuration.max_configuration_file_size (128 KiB).
const maxConfigFileBytes = 128 * 1024

// maxAuthorizedEntities is GitLab's AUTHORIZED_ENTITY_LIMIT: entries of a projects or groups list past
// the 500th are ignored.
const maxAuthorizedEntities = 500

// valueToDoc converts a framework value into a document value; null values are absent (ok false).
func valueToDoc(v attr.Value) (any, bool) {
	if v == nil || v.IsNull() {
		return nil, false
	}
	if v.IsUnknown() {
		return unknownValue{}, true
	}
	switch x := v.(type) {
	case basetypes.StringValue:
		return x.ValueString(), true
	case basetypes.BoolValue:
		return x.ValueBool(), true
	case basetypes.Int64Value:
		return x.ValueInt64(), true
	case basetypes.ListValue:
		out := make([]any, 0, len(x.Elements()))
		for _, e := range x.Elements() {
			d, ok := valueToDoc(e)
			if !ok {
				d = nil
			}
			out = append(out, d)
		}
		return out, true
	case basetypes.ObjectValue:
		out := map[string]any{}
		for name, a := range x.Attributes() {
			if d, ok := valueToDoc(a); ok {
				out[name] = d
			}
		}
		return out, true
	}
	return unknownValue{}, true
}

// docToValue reads a document value into a framework value of type t, strictly: a key t does not
// have, or a value of another type, is an error.
func docToValue(d any, t attr.Type) (attr.Value, error) {
	switch tt := t.(type) {
	case basetypes.StringType:
		if d == nil {
			return types.StringNull(), nil
		}
		s, ok := d.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", d)
		}
		return types.StringValue(s), nil
	case basetypes.BoolType:
		if d == nil {
			return types.BoolNull(), nil
		}
		b, ok := d.(bool)
		if !ok {
			return nil, fmt.Errorf("%v is not a boolean", d)
		}
		return types.BoolValue(b), nil
	case basetypes.Int64Type:
		if d == nil {
			return types.Int64Null(), nil
		}
		f, ok := d.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("%v is not an integer", d)
		}
		return types.Int64Value(int64(f)), nil
	case basetypes.ListType:
		if d == nil {
			return types.ListNull(tt.ElemType), nil
		}
		list, ok := d.([]any)
		if !ok {
			return nil, fmt.Errorf("not a list")
		}
		elems := make([]attr.Value, 0, len(list))
		for i, e := range list {
			v, err := docToValue(e, tt.ElemType)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			elems = append(elems, v)
		}
		v, diags := types.ListValue(tt.ElemType, elems)
		if diags.HasError() {
			return nil, errors.New("not a list of the expected type")
		}
		return v, nil
	case basetypes.ObjectType:
		if d == nil {
			return types.ObjectNull(tt.AttrTypes), nil
		}
		m, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not a mapping")
		}
		for k := range m {
			if _, known := tt.AttrTypes[k]; !known {
				return nil, fmt.Errorf("key %q is not a typed attribute", k)
			}
		}
		attrs := map[string]attr.Value{}
		for name, at := range tt.AttrTypes {
			v, err := docToValue(m[name], at)
			if err != nil {
				return nil, fmt.Errorf(".%s: %w", name, err)
			}
			attrs[name] = v
		}
		v, diags := types.ObjectValue(tt.AttrTypes, attrs)
		if diags.HasError() {
			return nil, errors.New("not an object of the expected type")
		}
		return v, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// parseDocument reads YAML (or JSON, which is YAML) as KAS does. An empty file is an empty document.
func parseDocument(text []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSON(text)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(j, &doc); err != nil {
		return nil, err
	}
	switch m := doc.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return m, nil
	}
	return nil, errors.New("the document is not a mapping of keys to values")
}

// normalize makes a known document comparable with one parsed from YAML: every number a float64.
func normalize(doc any) any {
	data, err := json.Marshal(doc)
	if err != nil {
		return doc
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return doc
	}
	return out
}

// sameDocument reports whether two documents mean the same to KAS: equal after YAML parsing, so that
// key order, quoting, comments and white space do not matter.
func sameDocument(a, b any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// hasUnknown reports whether a document holds a value not known yet.
func hasUnknown(d any) bool {
	switch x := d.(type) {
	case unknownValue:
		return true
	case map[string]any:
		for _, v := range x {
			if hasUnknown(v) {
				return true
			}
		}
	case []any:
		for _, v := range x {
			if hasUnknown(v) {
				return true
			}
		}
	}
	return false
}

// mergeDocuments merges extra into typed. A key set on both sides is a conflict unless both values
// are mappings, which merge key by key; conflicts are returned as dotted key paths.
func mergeDocuments(typed, extra map[string]any) (map[string]any, []string) {
	out := map[string]any{}
	for k, v := range typed {
		out[k] = v
	}
	var conflicts []string
	for _, k := range sortedKeys(extra) {
		ev := extra[k]
		tv, both := out[k]
		if !both {
			out[k] = ev
			continue
		}
		tm, tok := tv.(map[string]any)
		em, eok := ev.(map[string]any)
		if !tok || !eok {
			conflicts = append(conflicts, k)
			continue
		}
		merged, sub := mergeDocuments(tm, em)
		for _, c := range sub {
			conflicts = append(conflicts, k+"."+c)
		}
		out[k] = merged
	}
	return out, conflicts
}

// renderDocument writes a known document as the canonical file: the header, then YAML with keys
// sorted (sigs.k8s.io/yaml goes through JSON).
func renderDocument(doc map[string]any) ([]byte, error) {
	body, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append([]byte(agentConfigHeader), body...), nil
}

// renderExtra writes the document of additional_config as it is stored when read back from GitLab.
func renderExtra(doc map[string]any) string {
	body, err := yaml.Marshal(doc)
	if err != nil {
		return ""
	}
	return string(body)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// docPath is a path inside a document: keys (string) and list indexes (int).
type docPath []any

func (p docPath) String() string {
	var b strings.Builder
	for _, s := range p {
		switch x := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		case int:
			b.WriteString("[" + strconv.Itoa(x) + "]")
		}
	}
	return b.String()
}

func (p docPath) with(s any) docPath {
	return append(append(docPath(nil), p...), s)
}

// configProblem is something KAS or GitLab would reject or ignore in a document.
type configProblem struct {
	path    docPath
	summary string
	detail  string
}

// The keys KAS's ConfigurationFile and its messages accept (gitlab-agent pkg/agentcfg/agentcfg.proto
// and later documented additions). Keys under remote_development are not checked: its key set changes
// with each GitLab release.
var knownKeys = map[string][]string{
	"":                                  {"gitops", "observability", "ci_access", "user_access", "container_scanning", "remote_development", "flux"},
	"ci_access":                         {"projects", "groups", "instance"},
	"ci_access.entry":                   {"id", "default_namespace", "access_as", "environments", "protected_branches_only", "resource_management"},
	"ci_access.instance":                {"default_namespace", "access_as", "environments", "protected_branches_only", "resource_management"},
	"ci_access.access_as":               {"agent", "impersonate", "ci_job"},
	"ci_access.access_as.agent":         {},
	"ci_access.access_as.ci_job":        {},
	"ci_access.access_as.impersonate":   {"username", "groups", "uid", "extra"},
	"ci_access.access_as.impersonate.x": {"key", "val"},
	"ci_access.resource_management":     {"enabled"},
	"user_access":                       {"access_as", "projects", "groups"},
	"user_access.access_as":             {"agent", "user"},
	"user_access.access_as.agent":       {},
	"user_access.access_as.user":        {},
	"user_access.entry":                 {"id"},
	"observability":                     {"logging", "google_profiler"},
	"observability.logging":             {"level", "grpc_level"},
	"observability.google_profiler":     {"enabled", "project_id", "credentials_file", "debug_logging"},
	"flux":                              {"webhook_receiver_url"},
	"container_scanning":                {"cadence", "vulnerability_report", "resource_requirements"},
	"gitops":                            {"manifest_projects"},
}

// logLevels are the values of observability.logging.level and grpc_level.
var logLevels = []string{"info", "debug", "warn", "error"}

// checkDocument finds what KAS would reject in a document (which makes it ignore the whole file) and
// what GitLab would silently drop. Unknown values are skipped.
func checkDocument(doc map[string]any) []configProblem {
	var c docChecker
	c.keys(doc, "", nil)
	if v, ok := doc["ci_access"]; ok {
		if m, ok := c.mapping(v, docPath{"ci_access"}); ok {
			c.keys(m, "ci_access", docPath{"ci_access"})
			for _, list := range []string{"projects", "groups"} {
				c.entries(m[list], docPath{"ci_access", list}, "ci_access.entry", c.ciAccessEntry)
			}
			if inst, ok := m["instance"]; ok {
				if im, ok := c.mapping(inst, docPath{"ci_access", "instance"}); ok {
					c.keys(im, "ci_access.instance", docPath{"ci_access", "instance"})
					c.ciAccessEntry(im, docPath{"ci_access", "instance"})
				}
			}
		}
	}
	if v, ok := doc["user_access"]; ok {
		if m, ok := c.mapping(v, docPath{"user_access"}); ok {
			c.keys(m, "user_access", docPath{"user_access"})
			c.accessAs(m["access_as"], docPath{"user_access", "access_as"}, "user_access.access_as", []string{"agent", "user"})
			for _, list := range []string{"projects", "groups"} {
				c.entries(m[list], docPath{"user_access", list}, "user_access.entry", func(map[string]any, docPath) {})
			}
		}
	}
	if v, ok := doc["observability"]; ok {
		if m, ok := c.mapping(v, docPath{"observability"}); ok {
			c.keys(m, "observability", docPath{"observability"})
			if l, ok := m["logging"]; ok {
				if lm, ok := c.mapping(l, docPath{"observability", "logging"}); ok {
					c.keys(lm, "observability.logging", docPath{"observability", "logging"})
					for _, k := range []string{"level", "grpc_level"} {
						c.enum(lm[k], docPath{"observability", "logging", k}, logLevels)
					}
				}
			}
			if g, ok := m["google_profiler"]; ok {
				if gm, ok := c.mapping(g, docPath{"observability", "google_profiler"}); ok {
					c.keys(gm, "observability.google_profiler", docPath{"observability", "google_profiler"})
				}
			}
		}
	}
	for _, k := range []string{"flux", "container_scanning"} {
		if v, ok := doc[k]; ok {
			if m, ok := c.mapping(v, docPath{k}); ok {
				c.keys(m, k, docPath{k})
			}
		}
	}
	if v, ok := doc["gitops"]; ok {
		if m, ok := c.mapping(v, docPath{"gitops"}); ok {
			if _, ok := m["manifest_projects"]; ok {
				c.add(docPath{"gitops", "manifest_projects"}, "gitops.manifest_projects was removed",
					"GitLab 17.0 removed the agent's GitOps module: agentk ignores gitops.manifest_projects, and KAS "+
						"versions that no longer know the key reject the whole file. Deploy with Flux instead (a Flux "+
						"GitRepository and Kustomization in the cluster), and set `flux.webhook_receiver_url` in "+
						"additional_config so that GitLab notifies Flux of new commits.")
			}
			c.keys(m, "gitops", docPath{"gitops"})
		}
	}
	return c.problems
}

type docChecker struct{ problems []configProblem }

func (c *docChecker) add(p docPath, summary, detail string) {
	c.problems = append(c.problems, configProblem{path: p, summary: summary, detail: detail})
}

func (c *docChecker) mapping(v any, p docPath) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case unknownValue:
		return nil, false
	case nil:
		return nil, false
	}
	c.add(p, "Not a mapping", fmt.Sprintf("%s must be a mapping of keys to values; KAS rejects the whole file otherwise.", p))
	return nil, false
}

// keys reports keys that the message at kind does not have: KAS parses strictly and rejects the whole
// file for one unknown key.
func (c *docChecker) keys(m map[string]any, kind string, p docPath) {
	allowed := knownKeys[kind]
	for _, k := range sortedKeys(m) {
		if !containsString(allowed, k) {
			where := "at the top level"
			if len(p) > 0 {
				where = "under " + p.String()
			}
			want := "none"
			if len(allowed) > 0 {
				want = strings.Join(allowed, ", ")
			}
			c.add(p.with(k), "Unknown key in the agent configuration",
				fmt.Sprintf("%q is not a key GitLab's agent server knows %s (known: %s). The agent server parses "+
					"config.yaml strictly: one unknown key makes it reject the whole file, and GitLab keeps the old "+
					"authorizations without saying so.", k, where, want))
		}
	}
}

// entries checks a projects or groups list: its length and each entry's id.
func (c *docChecker) entries(v any, p docPath, kind string, more func(map[string]any, docPath)) {
	if v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		if _, unknown := v.(unknownValue); !unknown {
			c.add(p, "Not a list", fmt.Sprintf("%s must be a list of entries with an `id`.", p))
		}
		return
	}
	if len(list) > maxAuthorizedEntities {
		c.add(p, "Too many entries",
			fmt.Sprintf("%s has %d entries; GitLab authorizes only the first %d and silently ignores the rest. "+
				"Authorize a parent group instead of its projects one by one, or split the list across agents.",
				p, len(list), maxAuthorizedEntities))
	}
	for i, e := range list {
		ep := p.with(i)
		m, ok := c.mapping(e, ep)
		if !ok {
			continue
		}
		c.keys(m, kind, ep)
		switch id := m["id"].(type) {
		case unknownValue:
		case string:
			if strings.TrimSpace(id) == "" {
				c.add(ep.with("id"), "Empty id", fmt.Sprintf("%s.id is empty: it must be the full path of a "+
					"project or group, e.g. \"group/project\". KAS rejects the whole file otherwise.", ep))
			}
		default:
			c.add(ep.with("id"), "Missing id", fmt.Sprintf("%s needs an `id`: the full path of a project or group, "+
				"e.g. \"group/project\". KAS rejects the whole file otherwise.", ep))
		}
		more(m, ep)
	}
}

// ciAccessEntry checks the fields of a ci_access project, group or instance entry.
func (c *docChecker) ciAccessEntry(m map[string]any, p docPath) {
	if v, ok := m["access_as"]; ok {
		c.accessAs(v, p.with("access_as"), "ci_access.access_as", []string{"agent", "impersonate", "ci_job"})
		if am, ok := v.(map[string]any); ok {
			if imp, ok := am["impersonate"].(map[string]any); ok {
				ip := p.with("access_as").with("impersonate")
				c.keys(imp, "ci_access.access_as.impersonate", ip)
				if u, ok := imp["username"]; !ok || u == "" {
					c.add(ip.with("username"), "Missing username",
						fmt.Sprintf("%s needs a `username` to impersonate; KAS rejects the whole file otherwise.", ip))
				}
				if extra, ok := imp["extra"].([]any); ok {
					for i, e := range extra {
						xm, ok := c.mapping(e, ip.with("extra").with(i))
						if !ok {
							continue
						}
						xp := ip.with("extra").with(i)
						c.keys(xm, "ci_access.access_as.impersonate.x", xp)
						if k, ok := xm["key"]; !ok || k == "" {
							c.add(xp.with("key"), "Missing key", fmt.Sprintf("%s needs a `key`.", xp))
						}
						if vals, ok := xm["val"].([]any); !ok || len(vals) == 0 {
							if _, unknown := xm["val"].(unknownValue); !unknown {
								c.add(xp.with("val"), "Missing values", fmt.Sprintf("%s needs at least one value in `val`.", xp))
							}
						} else {
							for j, v := range vals {
								if v == "" {
									c.add(xp.with("val").with(j), "Empty value", fmt.Sprintf("%s.val[%d] is empty.", xp, j))
								}
							}
						}
					}
				}
			}
			for _, k := range []string{"agent", "ci_job"} {
				if e, ok := am[k]; ok {
					if em, ok := c.mapping(e, p.with("access_as").with(k)); ok {
						c.keys(em, "ci_access.access_as."+k, p.with("access_as").with(k))
					}
				}
			}
		}
	}
	if envs, ok := m["environments"].([]any); ok {
		for i, e := range envs {
			if e == "" {
				c.add(p.with("environments").with(i), "Empty environment",
					fmt.Sprintf("%s.environments[%d] is empty; each entry names an environment or a pattern such as \"review/*\".", p, i))
			}
		}
	}
	if rm, ok := m["resource_management"]; ok {
		if rmm, ok := c.mapping(rm, p.with("resource_management")); ok {
			c.keys(rmm, "ci_access.resource_management", p.with("resource_management"))
		}
	}
}

// accessAs checks that access_as holds exactly one of its choices.
func (c *docChecker) accessAs(v any, p docPath, kind string, choices []string) {
	if v == nil {
		return
	}
	m, ok := c.mapping(v, p)
	if !ok {
		return
	}
	c.keys(m, kind, p)
	var set []string
	for _, k := range choices {
		if x, ok := m[k]; ok {
			if _, unknown := x.(unknownValue); unknown {
				return
			}
			if x == nil {
				c.add(p.with(k), "access_as choice is null",
					fmt.Sprintf("%s.%s is null: write `%s: {}`. A YAML null leaves access_as empty, which KAS rejects.", p, k, k))
				return
			}
			set = append(set, k)
		}
	}
	switch len(set) {
	case 1:
	case 0:
		c.add(p, "access_as is empty", fmt.Sprintf("%s must set exactly one of %s (e.g. `%s: {}`); KAS rejects "+
			"the whole file when it sets none.", p, strings.Join(choices, ", "), choices[0]))
	default:
		c.add(p, "access_as sets more than one choice", fmt.Sprintf("%s sets %s: it must set exactly one of %s; "+
			"KAS rejects the whole file otherwise.", p, strings.Join(set, " and "), strings.Join(choices, ", ")))
	}
}

// enum checks a string against its allowed values.
func (c *docChecker) enum(v any, p docPath, allowed []string) {
	s, ok := v.(string)
	if !ok || containsString(allowed, s) {
		return
	}
	c.add(p, "Invalid value", fmt.Sprintf("%s is %q: it must be one of %s.", p, s, strings.Join(allowed, ", ")))
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// maxOutsideWarnings is how many entries of one list outside the top-level group are warned about one
// by one; the others are counted in one more warning.
const maxOutsideWarnings = 5

// outsideGroup lists the entries of the document's authorization lists whose path is not under the
// top-level group of the agent's project: GitLab drops them silently.
func outsideGroup(doc map[string]any, projectPath string) []configProblem {
	top := strings.ToLower(strings.SplitN(projectPath, "/", 2)[0])
	var out []configProblem
	for _, block := range []string{"ci_access", "user_access"} {
		m, _ := doc[block].(map[string]any)
		for _, list := range []string{"projects", "groups"} {
			entries, _ := m[list].([]any)
			outside := 0
			for i, e := range entries {
				em, _ := e.(map[string]any)
				id, ok := em["id"].(string)
				if !ok || id == "" {
					continue
				}
				if strings.ToLower(strings.SplitN(id, "/", 2)[0]) != top {
					outside++
					if outside > maxOutsideWarnings {
						continue
					}
					p := docPath{block, list, i, "id"}
					out = append(out, configProblem{path: p, summary: "Entry outside the project's top-level group",
						detail: fmt.Sprintf("%s is %q, outside %q, the top-level group of the agent's project %q. GitLab "+
							"authorizes only projects and groups in the same top-level group as the agent's project and "+
							"drops the others without an error.", p, id, top, projectPath)})
				}
			}
			if outside > maxOutsideWarnings {
				p := docPath{block, list}
				out = append(out, configProblem{path: p, summary: "More entries outside the project's top-level group",
					detail: fmt.Sprintf("%s has %d more entries outside %q, the top-level group of the agent's project %q, "+
						"which GitLab drops without an error.", p, outside-maxOutsideWarnings, top, projectPath)})
			}
		}
	}
	return out
}

// instanceProblems warns about ci_access.instance, which GitLab honours only with an instance setting.
func instanceProblems(doc map[string]any) []configProblem {
	if m, ok := doc["ci_access"].(map[string]any); ok {
		if _, ok := m["instance"]; ok {
			return []configProblem{{path: docPath{"ci_access", "instance"}, summary: "ci_access.instance needs an instance setting",
				detail: "GitLab honours ci_access.instance only when an administrator has turned on " +
					"organization_cluster_agent_authorization_enabled (Admin > Settings > General > GitLab agent for " +
					"Kubernetes, GitLab Self-Managed 17.11 and later); otherwise it is ignored."}}
		}
	}
	return nil
}
