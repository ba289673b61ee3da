// Command bench measures the provider against the in-process mock GitLab and
// prints a Markdown report: requests per operation for each resource (from
// the mock's request log), terraform plan wall and CPU time for N resources
// with and without refresh, apply and destroy of N resources, the list data
// source over many agents, an apply under a rate limit against the floor
// N/rate, and the provider process's peak RSS. It compares the provider with
// nothing but itself and the floor.
//
//	go run ./scripts/bench [-provider BIN] [-terraform BIN] [-docs docs/benchmarks.md] [...]
//
// With -docs the report also replaces the part of that page between the
// markers <!-- bench:begin --> and <!-- bench:end -->.
//
// Terraform runs the provider through a small wrapper (this program, called
// back with "wrap-provider") that records the provider's CPU time and peak
// RSS from the kernel's accounting of the finished process.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const (
	providerBinary  = "terraform-provider-gitlabagent"
	maintainerToken = "glpat-mock-maintainer-0000000"
	projectPath     = "root/test"
	projectID       = 20
	maintainerID    = 2
	beginMarker     = "<!-- bench:begin -->"
	endMarker       = "<!-- bench:end -->"
)

type options struct {
	provider    string
	terraform   string
	docs        string
	sizes       []int
	repeat      int
	agents      []int
	rateN       int
	ratePerMin  int
	parallelism int
	sections    map[string]bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wrap-provider" {
		os.Exit(wrapProvider(os.Args[2:]))
	}
	var o options
	var sizes, agents, sections string
	flag.StringVar(&o.provider, "provider", "", "provider binary to measure (default: build it from this checkout)")
	flag.StringVar(&o.terraform, "terraform", "", "terraform binary (default: TF_ACC_TERRAFORM_PATH or terraform on PATH)")
	flag.StringVar(&o.docs, "docs", "", "Markdown page whose bench:begin/bench:end section receives the report")
	flag.StringVar(&sizes, "n", "100,1000", "resource counts to plan (half agents, half tokens); the largest is also applied and destroyed")
	flag.IntVar(&o.repeat, "repeat", 3, "runs of each plan; the median is reported")
	flag.StringVar(&agents, "agents", "10000,12000", "agent counts for the list data source (GitLab omits totals above 10,000)")
	flag.IntVar(&o.rateN, "rate-n", 1000, "resources applied under the rate limit (0 to skip)")
	flag.IntVar(&o.ratePerMin, "rate", 600, "the rate limit, requests per minute (a multiple of 60: it is applied per second)")
	flag.IntVar(&o.parallelism, "parallelism", 10, "terraform -parallelism")
	flag.StringVar(&sections, "sections", "requests,scale,datasource,rate", "sections to run")
	flag.Parse()
	o.sections = map[string]bool{}
	for _, s := range strings.Split(sections, ",") {
		o.sections[strings.TrimSpace(s)] = true
	}
	var err error
	if o.sizes, err = intList(sizes); err == nil {
		o.agents, err = intList(agents)
	}
	if err == nil && o.rateN > 0 && (o.ratePerMin < 60 || o.ratePerMin%60 != 0) {
		err = fmt.Errorf("-rate %d is not a multiple of 60 requests per minute", o.ratePerMin)
	}
	if err == nil {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(o options) error {
	work, err := os.MkdirTemp("", "gitlabagent-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b, err := newBench(o, work)
	if err != nil {
		return err
	}
	report := &strings.Builder{}
	b.out = io.MultiWriter(os.Stdout, report)
	b.machine()
	for _, section := range []struct {
		name string
		run  func() error
	}{
		{"requests", b.requestsPerOperation},
		{"scale", b.scale},
		{"datasource", b.dataSource},
		{"rate", b.rateLimited},
	} {
		if !o.sections[section.name] {
			continue
		}
		if err := section.run(); err != nil {
			return err
		}
	}
	b.printf("\nLoad average after the run: %s.\n", loadAverage())
	if o.docs != "" {
		return updateDocs(o.docs, report.String())
	}
	return nil
}

type bench struct {
	o         options
	work      string
	terraform string
	wrapperIn string // directory holding the wrapper named like the provider
	usageLog  string
	out       io.Writer
}

func newBench(o options, work string) (*bench, error) {
	b := &bench{o: o, work: work, usageLog: filepath.Join(work, "provider-usage.log")}
	b.terraform = o.terraform
	if b.terraform == "" {
		b.terraform = os.Getenv("TF_ACC_TERRAFORM_PATH")
	}
	if b.terraform == "" {
		tf, err := exec.LookPath("terraform")
		if err != nil {
			return nil, errors.New("no terraform: put it on PATH or pass -terraform")
		}
		b.terraform = tf
	}
	provider := o.provider
	if provider == "" {
		provider = filepath.Join(work, "real", providerBinary)
		build := exec.Command("go", "build", "-o", provider, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("building the provider: %w", err)
		}
	}
	provider, err := filepath.Abs(provider)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b.wrapperIn = filepath.Join(work, "wrapper")
	if err := os.MkdirAll(b.wrapperIn, 0o755); err != nil {
		return nil, err
	}
	script := fmt.Sprintf("#!/bin/sh\nexec %s wrap-provider %s %s \"$@\"\n",
		shellQuote(self), shellQuote(provider), shellQuote(b.usageLog))
	if err := os.WriteFile(filepath.Join(b.wrapperIn, providerBinary), []byte(script), 0o755); err != nil {
		return nil, err
	}
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"gitlabagent/gitlabagent\" = %q\n  }\n  direct {}\n}\n", b.wrapperIn)
	if err := os.WriteFile(filepath.Join(work, "terraform.rc"), []byte(rc), 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// machine describes what the numbers were measured on.
func (b *bench) machine() {
	tfVersion := "unknown"
	if out, err := exec.Command(b.terraform, "version", "-json").Output(); err == nil {
		var v struct {
			Version string `json:"terraform_version"`
		}
		if json.Unmarshal(out, &v) == nil {
			tfVersion = v.Version
		}
	}
	commit := "unknown"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
		// Changes to this page and to the benchmark itself do not change what is measured.
		st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".",
			":!docs/benchmarks.md", ":!scripts/bench").Output()
		if err == nil && len(st) > 0 {
			commit += " (with uncommitted changes)"
		}
	}
	b.printf("Measured %s on %s: %d CPUs (%s), %s memory, Linux %s; Go %s, Terraform %s, provider at %s. "+
		"Load average before the run: %s.\n",
		time.Now().UTC().Format("2006-01-02"), hostDescription(), runtime.NumCPU(), cpuModel(), memTotal(),
		kernel(), strings.TrimPrefix(runtime.Version(), "go"), tfVersion, commit, loadAverage())
}

// wrapProvider runs the real provider with this process's standard streams,
// forwards interrupts to it, and appends its peak RSS (KiB) and user and
// system CPU time (ns) to the usage log once it exits.
func wrapProvider(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench wrap-provider PROVIDER USAGE_LOG [ARGS...]")
		return 2
	}
	cmd := exec.Command(args[0], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		f, ferr := os.OpenFile(args[1], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if ferr == nil {
			fmt.Fprintf(f, "%d %d %d\n", ru.Maxrss, time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()))
			_ = f.Close()
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

// mock is one in-process mock GitLab.
type mock struct {
	srv  *mockgitlab.Server
	http *httptest.Server
}

func newMock() (*mock, error) {
	seed := mockgitlab.DefaultSeed()
	seed.Settings.ReceptiveAgents = true
	srv, err := mockgitlab.New(seed)
	if err != nil {
		return nil, err
	}
	return &mock{srv: srv, http: httptest.NewServer(srv)}, nil
}

func (m *mock) close() { m.http.Close() }

func (m *mock) baseURL() string { return m.http.URL + "/api/v4" }

// control sends a request to one of the mock's /-/mock/ endpoints.
func (m *mock) control(method, path string, body any) (int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(context.Background(), method, m.http.URL+"/-/mock/"+path, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.http.Client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// dir is one Terraform working directory against one mock.
type dir struct {
	b    *bench
	m    *mock
	path string
}

func (b *bench) newDir(m *mock, name, hcl string) (*dir, error) {
	p := filepath.Join(b.work, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return nil, err
	}
	d := &dir{b: b, m: m, path: p}
	return d, d.write(hcl)
}

func (d *dir) write(hcl string) error {
	provider := fmt.Sprintf("terraform {\n  required_providers {\n    gitlabagent = {\n      source = \"gitlabagent/gitlabagent\"\n    }\n  }\n}\n\n"+
		"provider \"gitlabagent\" {\n  base_url = %q\n  token    = %q\n}\n\n", d.m.baseURL(), maintainerToken)
	return os.WriteFile(filepath.Join(d.path, "main.tf"), []byte(provider+hcl), 0o600)
}

// measurement is one terraform command.
type measurement struct {
	start       time.Time
	wall        time.Duration
	cpu         time.Duration // terraform and every process it waited for, the provider included
	providerCPU time.Duration
	providerRSS int64 // KiB, the largest of the provider processes
	requests    []mockgitlab.LoggedRequest
}

// terraform runs one terraform command and measures it. The mock's request
// log is reset before and read after.
func (d *dir) terraform(args ...string) (measurement, error) {
	var m measurement
	d.m.srv.ResetRequests()
	_ = os.Remove(d.b.usageLog)
	cmd := exec.Command(d.b.terraform, args...)
	cmd.Dir = d.path
	cmd.Env = terraformEnv(filepath.Join(d.b.work, "terraform.rc"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	m.start = time.Now()
	err := cmd.Run()
	m.wall = time.Since(m.start)
	if err != nil {
		return m, fmt.Errorf("terraform %s in %s: %w\n%s", strings.Join(args, " "), filepath.Base(d.path), err, tail(out.String(), 40))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	m.requests = d.m.srv.Requests()
	usage, err := os.ReadFile(d.b.usageLog)
	if err != nil {
		return m, fmt.Errorf("terraform %s: the provider's usage was not recorded: %w", strings.Join(args, " "), err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(usage)), "\n") {
		var rss, user, sys int64
		if _, err := fmt.Sscan(line, &rss, &user, &sys); err != nil {
			return m, fmt.Errorf("usage log line %q: %w", line, err)
		}
		m.providerRSS = max(m.providerRSS, rss)
		m.providerCPU += time.Duration(user + sys)
	}
	return m, nil
}

// terraformEnv is this process's environment without anything that would
// change what is measured (Terraform and provider logging, CLI configuration),
// with the bench's CLI configuration.
func terraformEnv(rc string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_LOG") || k == "TF_ACC_LOG_PATH" || k == "TF_CLI_CONFIG_FILE" ||
			k == "TF_CLI_ARGS" || strings.HasPrefix(k, "TF_CLI_ARGS_") || strings.HasPrefix(k, "GITLAB_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func (b *bench) tf(op string, extra ...string) []string {
	args := []string{op, "-input=false", "-no-color", "-lock=false", fmt.Sprintf("-parallelism=%d", b.o.parallelism)}
	if op == "apply" || op == "destroy" {
		args = append(args, "-auto-approve")
	}
	return append(args, extra...)
}

// Requests per operation.

var (
	numberSegment = regexp.MustCompile(`/[0-9]+(/|$)`)
	projectRef    = regexp.MustCompile(`^/api/v4/projects/[^/]+`)
)

// route names the endpoint of a logged request, e.g. "POST :project/cluster_agents".
func route(r mockgitlab.LoggedRequest) string {
	p := projectRef.ReplaceAllString(r.Path, ":project")
	for numberSegment.MatchString(p) {
		p = numberSegment.ReplaceAllString(p, "/:id$1")
	}
	return r.Method + " " + strings.TrimPrefix(p, "/api/v4")
}

// breakdown renders requests by endpoint: "2 (POST …/cluster_agents, POST …/tokens)".
func breakdown(reqs []mockgitlab.LoggedRequest) string {
	if len(reqs) == 0 {
		return "0"
	}
	counts := map[string]int{}
	var order []string
	for _, r := range reqs {
		k := route(r)
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		if counts[k] > 1 {
			parts = append(parts, fmt.Sprintf("%d× `%s`", counts[k], k))
		} else {
			parts = append(parts, "`"+k+"`")
		}
	}
	return fmt.Sprintf("%d: %s", len(reqs), strings.Join(parts, ", "))
}

type requestScenario struct {
	name  string
	hcl   string
	floor [4]int // apply, plan, plan -refresh=false, destroy
}

func (b *bench) requestsPerOperation() error {
	agent := func(project string) string {
		return fmt.Sprintf("resource \"gitlabagent_cluster_agent\" \"a\" {\n  project = %q\n  name    = \"bench\"\n}\n", project)
	}
	token := "resource \"gitlabagent_cluster_agent_token\" \"t\" {\n  project  = gitlabagent_cluster_agent.a.project\n" +
		"  agent_id = gitlabagent_cluster_agent.a.agent_id\n  name     = \"bench\"\n}\n"
	urlConfig := "resource \"gitlabagent_cluster_agent_url_configuration\" \"u\" {\n  project  = gitlabagent_cluster_agent.a.project\n" +
		"  agent_id = gitlabagent_cluster_agent.a.agent_id\n  url      = \"grpcs://agent.example.com:4242\"\n}\n"
	scenarios := []requestScenario{
		{"agent, `project` as a path", agent(projectPath), [4]int{1, 1, 0, 2}},
		{"agent, `project` as a numeric ID", agent(strconv.Itoa(projectID)), [4]int{1, 1, 0, 2}},
		{"agent + token, `project` as a path", agent(projectPath) + token, [4]int{2, 2, 0, 4}},
		{"agent + token, `project` as a numeric ID", agent(strconv.Itoa(projectID)) + token, [4]int{2, 2, 0, 4}},
		{"agent + URL configuration (JWT), `project` as a path", agent(projectPath) + urlConfig, [4]int{2, 2, 0, 4}},
	}
	b.printf("\n### Requests per operation\n\n")
	b.printf("From the mock's request log: what each command sent to GitLab, and the floor: one request per " +
		"resource for apply (create) and plan (refresh), none for a plan without refresh, two for destroy " +
		"(it refreshes first, then deletes).\n\n")
	b.printf("| Configuration | Operation | Requests | Floor |\n|---|---|---|---|\n")
	for i, s := range scenarios {
		m, err := newMock()
		if err != nil {
			return err
		}
		d, err := b.newDir(m, fmt.Sprintf("requests-%d", i), s.hcl)
		if err != nil {
			m.close()
			return err
		}
		ops := []struct {
			name string
			args []string
		}{
			{"apply", b.tf("apply")},
			{"plan", b.tf("plan")},
			{"plan -refresh=false", b.tf("plan", "-refresh=false")},
			{"destroy", b.tf("destroy")},
		}
		for j, op := range ops {
			r, err := d.terraform(op.args...)
			if err != nil {
				m.close()
				return err
			}
			b.printf("| %s | %s | %s | %d |\n", s.name, op.name, breakdown(r.requests), s.floor[j])
		}
		m.close()
	}
	return nil
}

// Plans, apply and destroy at scale.

func scaleConfig(n int) string {
	agents, tokens := (n+1)/2, n/2
	return fmt.Sprintf(`resource "gitlabagent_cluster_agent" "a" {
  count   = %d
  project = %q
  name    = "bench-${count.index}"
}

resource "gitlabagent_cluster_agent_token" "t" {
  count    = %d
  project  = gitlabagent_cluster_agent.a[count.index].project
  agent_id = gitlabagent_cluster_agent.a[count.index].agent_id
  name     = "bench"
}
`, agents, projectPath, tokens)
}

func (b *bench) scale() error {
	b.printf("\n### Plan, apply and destroy\n\n")
	b.printf("N resources: N/2 agents and N/2 tokens, `project` written as a path, `-parallelism=%d`. Plans are "+
		"the median of %d runs. CPU is user + system time of Terraform and every process it ran (the provider "+
		"included); the provider's own CPU and peak RSS come from the kernel's accounting of the provider "+
		"process. Floors: one request per resource to create or refresh, two to destroy (refresh, delete).\n\n", b.o.parallelism, b.o.repeat)
	b.printf("| Operation | N | Wall (s) | CPU (s) | Provider CPU (s) | Provider peak RSS (MiB) | Requests | Floor |\n")
	b.printf("|---|---|---|---|---|---|---|---|\n")
	for _, n := range b.o.sizes {
		m, err := newMock()
		if err != nil {
			return err
		}
		err = b.scaleOne(m, n)
		m.close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) row(op string, n int, m measurement, floor int) {
	b.printf("| %s | %d | %.2f | %.2f | %.2f | %.1f | %d | %d |\n", op, n, m.wall.Seconds(), m.cpu.Seconds(),
		m.providerCPU.Seconds(), float64(m.providerRSS)/1024, len(m.requests), floor)
}

func (b *bench) scaleOne(m *mock, n int) error {
	d, err := b.newDir(m, fmt.Sprintf("scale-%d", n), scaleConfig(n))
	if err != nil {
		return err
	}
	apply, err := d.terraform(b.tf("apply")...)
	if err != nil {
		return err
	}
	b.row("apply", n, apply, n)
	for _, refresh := range []bool{true, false} {
		name, args := "plan", b.tf("plan")
		floor := n
		if !refresh {
			name, args, floor = "plan -refresh=false", b.tf("plan", "-refresh=false"), 0
		}
		runs := make([]measurement, 0, b.o.repeat)
		for range max(b.o.repeat, 1) {
			r, err := d.terraform(args...)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		b.row(name, n, median(runs), floor)
	}
	destroy, err := d.terraform(b.tf("destroy")...)
	if err != nil {
		return err
	}
	b.row("destroy", n, destroy, 2*n)
	return nil
}

// median returns the run with the median CPU time, and the medians of wall
// time and peak RSS.
func median(runs []measurement) measurement {
	pick := func(less func(a, b measurement) int) measurement {
		s := slices.Clone(runs)
		slices.SortFunc(s, less)
		return s[len(s)/2]
	}
	m := pick(func(a, b measurement) int { return int(a.cpu - b.cpu) })
	m.wall = pick(func(a, b measurement) int { return int(a.wall - b.wall) }).wall
	m.providerRSS = pick(func(a, b measurement) int { return int(a.providerRSS - b.providerRSS) }).providerRSS
	m.providerCPU = pick(func(a, b measurement) int { return int(a.providerCPU - b.providerCPU) }).providerCPU
	return m
}

// The list data source over many agents.

func (b *bench) dataSource() error {
	if len(b.o.agents) == 0 {
		return nil
	}
	b.printf("\n### List data source\n\n")
	b.printf("`terraform plan` of one `gitlabagent_cluster_agents` over a project with that many agents (100 per "+
		"page; GitLab, and the mock, omit the page count above 10,000 rows, so those pages are read one after "+
		"another). Median of %d runs.\n\n", b.o.repeat)
	b.printf("| Agents | Wall (s) | CPU (s) | Provider CPU (s) | Provider peak RSS (MiB) | Requests | Floor |\n")
	b.printf("|---|---|---|---|---|---|---|\n")
	hcl := fmt.Sprintf("data \"gitlabagent_cluster_agents\" \"all\" {\n  project = %q\n}\n\n"+
		"output \"agents\" {\n  value = length(data.gitlabagent_cluster_agents.all.cluster_agents)\n}\n", projectPath)
	for _, n := range b.o.agents {
		m, err := newMock()
		if err != nil {
			return err
		}
		for i := range n {
			if _, err := m.srv.CreateAgent(projectID, fmt.Sprintf("agent-%05d", i), maintainerID); err != nil {
				m.close()
				return err
			}
		}
		d, err := b.newDir(m, fmt.Sprintf("agents-%d", n), hcl)
		if err != nil {
			m.close()
			return err
		}
		runs := make([]measurement, 0, b.o.repeat)
		for range max(b.o.repeat, 1) {
			r, err := d.terraform(b.tf("plan")...)
			if err != nil {
				m.close()
				return err
			}
			runs = append(runs, r)
		}
		m.close()
		r := median(runs)
		b.printf("| %d | %.2f | %.2f | %.2f | %.1f | %d | %d |\n", n, r.wall.Seconds(), r.cpu.Seconds(),
			r.providerCPU.Seconds(), float64(r.providerRSS)/1024, len(r.requests), (n+99)/100)
	}
	return nil
}

// An apply under a rate limit.

func (b *bench) rateLimited() error {
	if b.o.rateN == 0 {
		return nil
	}
	n := b.o.rateN
	floor := time.Duration(float64(n) / float64(b.o.ratePerMin) * float64(time.Minute))
	b.printf("\n### Apply under a rate limit\n\n")
	b.printf("N resources as above, applied while the mock allows %d requests per minute per user (%s a "+
		"second in one-second windows, so that no run can get ahead of the rate by starting near the end of a "+
		"long window), answering `429` with `RateLimit-*` and `Retry-After` beyond it, as GitLab's "+
		"`throttle_authenticated_api` does. The floor is N/rate: the time N requests take at exactly the limit. "+
		"Self-managed GitLab sends the `RateLimit-*` headers only with a `429`; GitLab.com has sent them on every "+
		"answer.\n\n", b.o.ratePerMin, strconv.FormatFloat(float64(b.o.ratePerMin)/60, 'f', -1, 64))
	b.printf("The wall time is split into the time before the first request (Terraform starting, planning), the " +
		"requests from first to last, and the time after the last (Terraform writing the state and exiting).\n\n")
	b.printf("| RateLimit headers | N | Wall (s) | Before first (s) | First to last (s) | After last (s) | Floor N/rate (s) | Wall / floor | Requests | Answered 429 |\n")
	b.printf("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, always := range []bool{false, true} {
		m, err := newMock()
		if err != nil {
			return err
		}
		status, err := m.control(http.MethodPut, "settings", map[string]any{
			"rate_limit":                map[string]any{"requests": b.o.ratePerMin / 60, "per_seconds": 1},
			"rate_limit_headers_always": always,
		})
		if err == nil && status >= 300 {
			err = fmt.Errorf("the mock refused its rate-limit setting (PUT /-/mock/settings answered %d)", status)
		}
		var apply measurement
		if err == nil {
			var d *dir
			if d, err = b.newDir(m, fmt.Sprintf("rate-limited-%v", always), scaleConfig(n)); err == nil {
				apply, err = d.terraform(b.tf("apply")...)
			}
		}
		m.close()
		if err != nil {
			return err
		}
		throttled := 0
		for _, r := range apply.requests {
			if r.Status == http.StatusTooManyRequests {
				throttled++
			}
		}
		headers := "with `429` only"
		if always {
			headers = "on every answer"
		}
		var before, span, after time.Duration
		if reqs := apply.requests; len(reqs) > 0 {
			before = reqs[0].At.Sub(apply.start)
			span = reqs[len(reqs)-1].At.Sub(reqs[0].At)
			after = apply.wall - before - span
		}
		b.printf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %d | %d |\n", headers, n, apply.wall.Seconds(),
			before.Seconds(), span.Seconds(), after.Seconds(), floor.Seconds(),
			apply.wall.Seconds()/floor.Seconds(), len(apply.requests), throttled)
	}
	return nil
}

// The machine.

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	data, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

func hostDescription() string {
	if data, err := os.ReadFile("/sys/class/dmi/id/product_name"); err == nil && len(bytes.TrimSpace(data)) > 0 {
		return strings.TrimSpace(string(data))
	}
	return "a " + runtime.GOOS + "/" + runtime.GOARCH + " machine"
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// updateDocs replaces the report section of a Markdown page.
func updateDocs(path, report string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	page := string(data)
	begin, end := strings.Index(page, beginMarker), strings.Index(page, endMarker)
	if begin < 0 || end < begin {
		return fmt.Errorf("%s has no %s … %s section", path, beginMarker, endMarker)
	}
	page = page[:begin+len(beginMarker)] + "\n\n" + strings.TrimSpace(report) + "\n\n" + page[end:]
	return os.WriteFile(path, []byte(page), 0o600)
}
