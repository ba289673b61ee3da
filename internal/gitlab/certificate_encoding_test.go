package gitlab

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// base64Mock plays GitLab EE 17.x, which takes and returns certificates Base64-encoded.
var base64Mock = mockgitlab.SeedSettings{Edition: "ee", ReceptiveAgents: true, CertificateEncoding: "base64", GitLabVersion: "17.6.0"}

func TestCertificates_gitLab17TakesBase64(t *testing.T) {
	mock, client, agentID := mockPlaying(t, base64Mock, testMaintainerToken)
	ctx := context.Background()
	opt := mtlsOptions(t)

	u, err := client.CreateURLConfiguration(ctx, testProject, agentID, opt)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	// Refused as raw PEM (nothing created), then created Base64-encoded.
	if n := mock.CountRequests(http.MethodPost, urlConfigsPattern); n != 2 {
		t.Errorf("%d POSTs, want 2", n)
	}
	if *u.ClientCert != *opt.ClientCert || *u.CACert != *opt.CACert || u.AuthType() != "mtls" {
		t.Errorf("create answered certificates that are not the PEM sent: %+v", u)
	}
	info, _ := mock.URLConfiguration(agentID)
	if *info.ClientCert != *opt.ClientCert || *info.ClientKey != *opt.ClientKey || *info.CACert != *opt.CACert {
		t.Error("GitLab did not store the PEM given")
	}
	// Reads decode.
	got, err := client.GetURLConfiguration(ctx, testProject, agentID, u.ID)
	if err != nil || *got.ClientCert != *opt.ClientCert || *got.CACert != *opt.CACert {
		t.Errorf("get: %+v, %v", got, err)
	}
	list, err := client.ListURLConfigurations(ctx, testProject, agentID)
	if err != nil || len(list) != 1 || *list[0].ClientCert != *opt.ClientCert {
		t.Errorf("list: %+v, %v", list, err)
	}

	// The form is remembered: the next create goes out Base64-encoded at once.
	other, err := mock.CreateAgent(testProjectID, "second", testUserID)
	if err != nil {
		t.Fatal(err)
	}
	mock.ResetRequests()
	if _, err := client.CreateURLConfiguration(ctx, testProject, other.ID, mtlsOptions(t)); err != nil {
		t.Fatalf("second create: %v", err)
	}
	if n := mock.CountRequests(http.MethodPost, urlConfigsPattern); n != 1 {
		t.Errorf("second create: %d POSTs, want 1", n)
	}

	// JWT needs no certificate: one POST, whatever the form.
	jwtAgent, err := mock.CreateAgent(testProjectID, "jwt", testUserID)
	if err != nil {
		t.Fatal(err)
	}
	mock.ResetRequests()
	if _, err := client.CreateURLConfiguration(ctx, testProject, jwtAgent.ID, &CreateURLConfigurationOptions{URL: "grpc://a:1", TLSHost: gl.Ptr("a.internal")}); err != nil {
		t.Fatal(err)
	}
	if n := mock.CountRequests(http.MethodPost, urlConfigsPattern); n != 1 {
		t.Errorf("JWT create: %d POSTs, want 1", n)
	}
}

func TestCertificates_formLearnedFromReadsAndUpgrades(t *testing.T) {
	mock, client, agentID := mockPlaying(t, base64Mock, testMaintainerToken)
	ctx := context.Background()
	// Someone else created a configuration; reading it shows the form.
	writer, err := New(Config{BaseURL: client.BaseURL(), Token: testMaintainerToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.CreateURLConfiguration(ctx, testProject, agentID, mtlsOptions(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListURLConfigurations(ctx, testProject, agentID); err != nil {
		t.Fatal(err)
	}
	second, _ := mock.CreateAgent(testProjectID, "second", testUserID)
	mock.ResetRequests()
	if _, err := client.CreateURLConfiguration(ctx, testProject, second.ID, mtlsOptions(t)); err != nil {
		t.Fatal(err)
	}
	if n := mock.CountRequests(http.MethodPost, urlConfigsPattern); n != 1 {
		t.Errorf("%d POSTs after reading a Base64 answer, want 1", n)
	}

	// GitLab upgraded to raw PEM in between: refused as Base64, sent again as PEM.
	settings := mock.Settings()
	settings.CertificateEncoding = "pem"
	if err := mock.SetSettings(settings); err != nil {
		t.Fatal(err)
	}
	third, _ := mock.CreateAgent(testProjectID, "third", testUserID)
	mock.ResetRequests()
	opt := mtlsOptions(t)
	u, err := client.CreateURLConfiguration(ctx, testProject, third.ID, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := mock.CountRequests(http.MethodPost, urlConfigsPattern); n != 2 || *u.ClientCert != *opt.ClientCert {
		t.Errorf("%d POSTs, certificate %q", n, *u.ClientCert)
	}
}

func TestCertificates_lostAnswerReconciledInBase64(t *testing.T) {
	mock, client, agentID := mockPlaying(t, base64Mock, testMaintainerToken)
	opt := mtlsOptions(t)
	// The client already knows the form; the Base64 POST creates the configuration and its answer is
	// lost: the configuration found is compared by its decoded certificates.
	client.sawEncoding(certBase64)
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: urlConfigsPattern, Status: http.StatusBadGateway, AfterCommit: true, Count: 1})
	got, err := client.CreateURLConfiguration(context.Background(), testProject, agentID, opt)
	if err != nil {
		t.Fatalf("create with a lost answer: %v", err)
	}
	info, _ := mock.URLConfiguration(agentID)
	if got.ID != info.ID || *got.ClientCert != *opt.ClientCert {
		t.Errorf("reconciled %+v, mock has %d", got, info.ID)
	}
	if n := mock.CountRequests(http.MethodPost, urlConfigsPattern); n != 1 {
		t.Errorf("%d POSTs, want 1", n)
	}
}

func TestCertificates_refusedInBothForms(t *testing.T) {
	var bodies []map[string]string
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var body map[string]string
		_ = json.Unmarshal(data, &body)
		bodies = append(bodies, body)
		writeJSON(w, http.StatusBadRequest, `{"message":"400 Bad request - [\"Client cert must be a valid PEM certificate\"]"}`)
	}))
	client := newTestClient(t, srv.URL, 0)
	opt := mtlsOptions(t)
	_, err := client.CreateURLConfiguration(context.Background(), testProject, 5, opt)
	e := asError(t, err)
	assertContains(t, "error", described(e), "in both forms", "as raw PEM (Client cert must be a valid PEM certificate)",
		"as Base64-encoded PEM (Client cert must be a valid PEM certificate)", "Nothing was created", "[kind certificates refused]")
	assertNoKey(t, err, *opt.ClientKey)
	if len(bodies) != 2 {
		t.Fatalf("%d POSTs, want 2", len(bodies))
	}
	if bodies[0]["client_cert"] != *opt.ClientCert {
		t.Error("the first POST did not send raw PEM")
	}
	if bodies[1]["client_cert"] != base64.StdEncoding.EncodeToString([]byte(*opt.ClientCert)) ||
		bodies[1]["client_key"] != base64.StdEncoding.EncodeToString([]byte(*opt.ClientKey)) ||
		bodies[1]["tls_host"] != *opt.TLSHost || bodies[1]["url"] != opt.URL {
		t.Errorf("the second POST is not the Base64 form: %v", bodies[1])
	}
}

func TestCertificates_otherRefusalsAreNotRetried(t *testing.T) {
	posts := 0
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts++
		writeJSON(w, http.StatusBadRequest, `{"message":"400 Bad request - [\"Tls host must be a valid hostname!\"]"}`)
	}))
	client := newTestClient(t, srv.URL, 0)
	_, err := client.CreateURLConfiguration(context.Background(), testProject, 5, mtlsOptions(t))
	if posts != 1 || StatusCode(err) != http.StatusBadRequest {
		t.Errorf("%d POSTs, status %d", posts, StatusCode(err))
	}
}

func TestDecodeCertificate(t *testing.T) {
	ca := newCA(t, "decode")
	b64 := base64.StdEncoding.EncodeToString([]byte(ca.certPEM))
	cases := []struct {
		in, want string
		form     certificateEncoding
	}{
		{ca.certPEM, ca.certPEM, certPEM},
		{b64, ca.certPEM, certBase64},
		{strings.TrimRight(b64, "="), ca.certPEM, certBase64},
		{b64[:40] + "\n" + b64[40:] + "\n", ca.certPEM, certBase64},
		{"not a certificate", "not a certificate", certUnknown},
		{base64.StdEncoding.EncodeToString([]byte("hello")), base64.StdEncoding.EncodeToString([]byte("hello")), certUnknown},
	}
	for _, tc := range cases {
		got, form := decodeCertificate(tc.in)
		if got != tc.want || form != tc.form {
			t.Errorf("decodeCertificate(%.20q) = %.20q, %v; want %.20q, %v", tc.in, got, form, tc.want, tc.form)
		}
	}
}

func TestSameCertificates(t *testing.T) {
	a, b := newCA(t, "a"), newCA(t, "b")
	crlf := strings.ReplaceAll(a.certPEM, "\n", "\r\n")
	withText := "Subject: CN=a\n" + a.certPEM + "\n\n"
	body := strings.Split(strings.TrimSpace(a.certPEM), "\n")
	rewrapped := body[0] + "\n" + strings.Join(body[1:len(body)-1], "") + "\n" + body[len(body)-1] + "\n"
	cases := []struct {
		x, y string
		same bool
	}{
		{a.certPEM, a.certPEM, true},
		{a.certPEM, crlf, true},
		{a.certPEM, withText, true},
		{a.certPEM, rewrapped, true},
		{a.certPEM, b.certPEM, false},
		{a.certPEM + b.certPEM, b.certPEM + a.certPEM, false},
		{a.certPEM + b.certPEM, a.certPEM + b.certPEM, true},
		{a.certPEM, a.certPEM + b.certPEM, false},
		{"junk", " junk\n", true},
		{"junk", a.certPEM, false},
	}
	for i, tc := range cases {
		if got := SameCertificates(tc.x, tc.y); got != tc.same {
			t.Errorf("case %d: SameCertificates = %v, want %v", i, got, tc.same)
		}
	}
}
