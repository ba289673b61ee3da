// Package gitlab is the one way the provider talks to GitLab. It builds the
// client-go client (authentication, TLS, retries, the rate-limit pacing,
// redacting logs), adds what client-go lacks, and turns API errors into
// errors that say what failed, what GitLab said, and the facts a caller needs
// to say what to do next (see Error); it speaks GitLab, not Terraform.
package gitlab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	gl "gitlab.com/gitlab-org/api/client-go/v2"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

// DefaultBaseURL is used when neither the configuration nor GITLAB_BASE_URL sets one.
const DefaultBaseURL = "https://gitlab.com/api/v4"

// DefaultRetries is how many times a request that may be retried is retried.
const DefaultRetries = 5

// Config is everything needed to build a Client.
type Config struct {
	// BaseURL is the GitLab API URL, with or without the trailing /api/v4.
	BaseURL string
	// Token is a personal, project, group or OAuth access token.
	Token string
	// CACertFile is a path to a PEM bundle appended to the system roots.
	CACertFile string
	// CACert is an inline PEM bundle appended to the system roots.
	CACert string
	// Insecure skips TLS verification of the GitLab API.
	Insecure bool
	// ClientCert and ClientKey authenticate to the API with mutual TLS; each is
	// a path to a PEM file or inline PEM.
	ClientCert string
	ClientKey  string
	// Retries is the maximum number of retries of one request after a 5xx or
	// a dropped connection (idempotent requests only). With 0, a 429 is not
	// waited out either.
	Retries int
	// RequestTimeout bounds each attempt of a request, from sending it to the
	// end of its answer; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// RateLimitWait bounds how long one request waits out GitLab's rate
	// limit (429 answers) in total; 0 means 10 minutes.
	RateLimitWait time.Duration
	// UserAgent is sent with every request.
	UserAgent string
}

// Client wraps the client-go client with the provider's error handling.
type Client struct {
	api      *gl.Client
	baseURL  string
	projects projectCache

	metadata metadataCache // GET /metadata, read once

	mu    sync.Mutex
	facts *instanceFacts // what GitLab told about itself, once asked
	// certEncoding is how this GitLab takes URL-configuration certificates,
	// once seen: certPEM or certBase64.
	certEncoding certificateEncoding

	tokens agentTokens
}

// ConfigError is a Config value the client cannot use. Field names it
// ("BaseURL", "Token", "CACertFile", "CACert", "ClientCert", "ClientKey").
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

func configError(field, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}

// NormalizeBaseURL accepts a GitLab URL with or without /api/v4 and returns
// the API URL ending in /api/v4.
func NormalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		return "", configError("BaseURL", "%q carries credentials in the URL: remove them and give the access token on its own", redactUserinfo(raw))
	}
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", configError("BaseURL", "%q is not a GitLab URL: use the form https://gitlab.example.com or https://gitlab.example.com/api/v4", redactUserinfo(raw))
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/api/v4") {
		p += "/api/v4"
	}
	u.Path = p
	u.RawPath = ""
	u.RawQuery = ""
	u.Fragment = ""
	return u.String(), nil
}

// redactUserinfo hides whatever precedes the last @ of a URL, up to its
// scheme, so that an error never quotes a password or a token written in the
// URL, even one too malformed to parse.
func redactUserinfo(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw[:at], "://"); i >= 0 {
		start = i + len("://")
	}
	return raw[:start] + "xxxxx" + raw[at:]
}

// New builds a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, configError("Token", "no GitLab access token")
	}
	baseURL, err := NormalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	tlsConfig, err := buildTLSConfig(cfg)
	if err != nil {
		return nil, err
	}
	httpClient := cleanhttp.DefaultPooledClient()
	httpClient.Transport.(*http.Transport).TLSClientConfig = tlsConfig
	httpClient.CheckRedirect = followReadRedirects

	retries := cfg.Retries
	if retries < 0 {
		retries = 0
	}
	rateLimitWait := cfg.RateLimitWait
	if rateLimitWait <= 0 {
		rateLimitWait = maxThrottledWait
	}
	if retries == 0 {
		rateLimitWait = -1
	}
	opts := []gl.ClientOptionFunc{
		gl.WithBaseURL(baseURL),
		gl.WithHTTPClient(httpClient),
		gl.WithCustomRetry(checkRetry),
		gl.WithCustomRetryMax(retries),
		gl.WithCustomBackoff(backoff),
		// The process-wide throttle in transport paces requests from what
		// GitLab says; client-go's own limiter would pace every run at two
		// thirds of an announced limit, throttled or not.
		gl.WithCustomLimiter(rate.NewLimiter(rate.Inf, 0)),
		gl.WithUserAgent(cfg.UserAgent),
		gl.WithURLWarningLogger(slog.New(slog.DiscardHandler)),
		gl.WithInterceptor(markUnsent),
		gl.WithInterceptor(transport(baseURL, cfg.RequestTimeout, rateLimitWait)),
		gl.WithInterceptor(logRequests(cfg.Token)),
		gl.WithInterceptor(keepErrorMessages),
		gl.WithInterceptor(peekAnswers(cfg.Token)),
	}
	// The token goes in "Authorization: Bearer", which GitLab accepts for
	// personal, project and group access tokens and for OAuth access tokens
	// alike (PRIVATE-TOKEN would reject OAuth tokens).
	bearer := gl.OAuthTokenSource{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.Token})}
	api, err := gl.NewAuthSourceClient(bearer, opts...)
	if err != nil {
		return nil, fmt.Errorf("building the GitLab client: %w", err)
	}
	return &Client{api: api, baseURL: baseURL}, nil
}

// maxRedirects bounds the redirects a read follows.
const maxRedirects = 10

// followReadRedirects follows the redirects of reads only: a request that
// changes something is never sent again elsewhere (Go's client would send a
// POST or a DELETE answered 302 on as a GET). The redirect's answer is then
// the answer, which is not GitLab's (see checkAnswer).
func followReadRedirects(req *http.Request, via []*http.Request) error {
	if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return http.ErrUseLastResponse
	}
	return nil
}

// BaseURL is the API URL the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// CheckAuth makes one request to verify that the token is accepted.
func (c *Client) CheckAuth(ctx context.Context) error {
	user, resp, err := c.api.Users.CurrentUser(gl.WithContext(ctx))
	if err = checkAnswer(resp, err, http.StatusOK); err == nil && (user == nil || user.ID <= 0 || user.Username == "") {
		err = wrongObject(resp, http.StatusOK, "it describes no user where GitLab sends the token's user, with its id and username")
	}
	if err != nil {
		return explain(err, resp, "check the GitLab token", Target{})
	}
	return nil
}

func buildTLSConfig(cfg Config) (*tls.Config, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.Insecure {
		tlsConfig.InsecureSkipVerify = true //nolint:gosec // explicitly requested with `insecure = true`
	}
	if cfg.CACertFile != "" || cfg.CACert != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if cfg.CACertFile != "" {
			data, err := os.ReadFile(cfg.CACertFile)
			if err != nil {
				return nil, configError("CACertFile", "reading the CA certificate file: %w", err)
			}
			if !pool.AppendCertsFromPEM(data) {
				return nil, configError("CACertFile", "the CA certificate file %s holds no PEM certificate: give a file with one or more -----BEGIN CERTIFICATE----- blocks", cfg.CACertFile)
			}
		}
		if cfg.CACert != "" && !pool.AppendCertsFromPEM([]byte(cfg.CACert)) {
			return nil, configError("CACert", "the CA certificates hold no PEM certificate: give one or more -----BEGIN CERTIFICATE----- blocks")
		}
		tlsConfig.RootCAs = pool
	}
	if cfg.ClientCert != "" || cfg.ClientKey != "" {
		if cfg.ClientCert == "" || cfg.ClientKey == "" {
			return nil, configError("ClientCert", "the client certificate and its key go together: give both for mutual TLS, or neither")
		}
		certPEM, err := pemOrFile(cfg.ClientCert, "ClientCert", "the client certificate")
		if err != nil {
			return nil, err
		}
		keyPEM, err := pemOrFile(cfg.ClientKey, "ClientKey", "the client key")
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// The error of X509KeyPair never quotes key material.
			return nil, configError("ClientCert", "the client certificate and its key do not form a key pair: %w", err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	return tlsConfig, nil
}

// pemOrFile returns inline PEM as is and reads anything else as a file path.
func pemOrFile(value, field, what string) ([]byte, error) {
	if strings.Contains(value, "-----BEGIN ") {
		return []byte(value), nil
	}
	data, err := os.ReadFile(value)
	if err != nil {
		return nil, configError(field, "%s is neither inline PEM nor a readable file: %w", what, err)
	}
	return data, nil
}
