package provider

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// Terraform (seen with 1.11) does not close an ephemeral resource when something that used its values
// failed: with `upstream of "ephemeral.… (close)" errored, so skipping`, a kubernetes provider that
// could not reach the cluster leaves the token it was given unrevoked. So the provider remembers the
// tokens it opened and Terraform has not closed yet, and revokes them when Terraform stops it at the end
// of the run (main calls Shutdown once the server has stopped). Tokens are only ever for one run: one
// still open when the provider stops is never needed again.

// shutdownRevokeTime bounds the revocations at shutdown: Terraform gives a provider it stops two seconds
// before it kills it.
const shutdownRevokeTime = 1500 * time.Millisecond

// openTokens are the Kubernetes access tokens a provider opened and Terraform has not closed.
type openTokens struct {
	mu     sync.Mutex
	tokens map[int64]openToken
}

type openToken struct {
	client *gitlab.Client
	secret string
}

func (o *openTokens) add(id int64, client *gitlab.Client, secret string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tokens == nil {
		o.tokens = map[int64]openToken{}
	}
	o.tokens[id] = openToken{client: client, secret: secret}
}

func (o *openTokens) remove(id int64) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.tokens, id)
}

// revokeAll revokes every token still open, at most shutdownRevokeTime long, and reports how many it
// revoked.
func (o *openTokens) revokeAll(ctx context.Context) int {
	if o == nil {
		return 0
	}
	o.mu.Lock()
	tokens := o.tokens
	o.tokens = nil
	o.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, shutdownRevokeTime)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	revoked := 0
	for id, t := range tokens {
		wg.Go(func() {
			if t.client.RevokeTokenSelf(ctx, t.secret, id) == nil {
				mu.Lock()
				revoked++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return revoked
}

// Shutdown revokes the Kubernetes access tokens p opened that Terraform did not close, and reports how
// many it revoked. main calls it once the provider has stopped serving.
func Shutdown(ctx context.Context, p provider.Provider) int {
	if gp, ok := p.(*gitlabAgentProvider); ok {
		return gp.openTokens.revokeAll(ctx)
	}
	return 0
}
