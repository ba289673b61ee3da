package mockgitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
)

// The GraphQL API (POST /api/graphql), for the part the provider reads: a project's agent and its agentk
// connections. Type names and nullability are GitLab's (app/graphql/types/clusters/agent_type.rb,
// app/graphql/types/kas/agent_connection_type.rb, agent_metadata_type.rb, agent_warning_type.rb,
// agent_version_warning_type.rb, app/graphql/types/permission_types/project.rb); resolution follows
// app/graphql/resolvers/kas/agent_connections_resolver.rb and app/controllers/graphql_controller.rb:
//   - no credential: the anonymous user, who sees public projects and no agents;
//   - a credential that does not authenticate (unknown, expired, revoked, or without the api or
//     read_api scope): 401 {"errors":[{"message":"Invalid token"}]};
//   - a project the caller cannot read, an unknown agent or one the caller may not read
//     (read_cluster_agent: Developer): null, no error;
//   - connections: [] below admin_cluster (Maintainer); null plus the error "GRPC::Unavailable" when
//     KAS is unreachable, "Gitlab::Kas::Client::ConfigurationError" when KAS is disabled;
//   - a query longer than 10,000 characters: 422 {"errors":[{"message":"Query too large"}]}.

// graphqlPath is where GitLab serves GraphQL.
const graphqlPath = "/api/graphql"

// maxGraphQLQueryLength is GraphqlController's limit on the query text.
const maxGraphQLQueryLength = 10000

const graphqlSchema = `
schema { query: Query }

"Time represented in ISO 8601."
scalar Time
"Represents non-fractional signed whole numeric values, encoded as a string."
scalar BigInt

type Query {
  project(fullPath: ID!): Project
}

type Project {
  id: ID!
  fullPath: ID!
  name: String!
  userPermissions: ProjectPermissions!
  clusterAgent(name: String!): ClusterAgent
}

type ProjectPermissions {
  readProject: Boolean!
  adminProject: Boolean!
}

type ClusterAgent {
  id: ID!
  name: String
  createdAt: Time
  updatedAt: Time
  webPath: String
  project: Project
  connections(after: String, before: String, first: Int, last: Int): ConnectedAgentConnection
}

type ConnectedAgentConnection {
  edges: [ConnectedAgentEdge]
  nodes: [ConnectedAgent]
  pageInfo: PageInfo!
}

type ConnectedAgentEdge {
  cursor: String!
  node: ConnectedAgent
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type ConnectedAgent {
  connectedAt: Time
  connectionId: BigInt
  metadata: AgentMetadata
  warnings: [AgentWarning]
}

type AgentMetadata {
  version: String
  commit: String
  podNamespace: String
  podName: String
}

type AgentWarning {
  version: AgentVersionWarning
}

type AgentVersionWarning {
  message: String
  type: String
}
`

// newGraphQLSchema parses the schema with resolvers that read the server's store. They run while the
// request holds the server's lock, one at a time.
func newGraphQLSchema(s *Server) *graphql.Schema {
	return graphql.MustParseSchema(graphqlSchema, &gqlQuery{s: s}, graphql.MaxParallelism(1))
}

// gqlTime renders Time as GitLab does: ISO 8601 with an offset, "2021-03-09T14:58:50+00:00".
type gqlTime struct{ time.Time }

func (gqlTime) ImplementsGraphQLType(name string) bool { return name == "Time" }

func (t *gqlTime) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("wrong type for Time: %T", input)
	}
	parsed, err := time.Parse(time.RFC3339, s)
	t.Time = parsed
	return err
}

func (t gqlTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05-07:00"))
}

// gqlBigInt is GitLab's BigInt: a JSON string.
type gqlBigInt int64

func (gqlBigInt) ImplementsGraphQLType(name string) bool { return name == "BigInt" }

func (b *gqlBigInt) UnmarshalGraphQL(input any) error {
	switch v := input.(type) {
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		*b = gqlBigInt(n)
		return err
	case int32:
		*b = gqlBigInt(v)
		return nil
	}
	return fmt.Errorf("wrong type for BigInt: %T", input)
}

func (b gqlBigInt) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatInt(int64(b), 10))
}

// gqlUserKey carries the authenticated user (nil: anonymous) to the resolvers.
type gqlUserKey struct{}

func gqlUser(ctx context.Context) *user {
	u, _ := ctx.Value(gqlUserKey{}).(*user)
	return u
}

// accessOf is the user's level in the project; anonymous has none.
func (st *store) accessOf(u *user, p *project) int {
	if u == nil {
		return accessNone
	}
	return st.accessLevel(u, p)
}

type gqlQuery struct{ s *Server }

func (q *gqlQuery) Project(ctx context.Context, args struct{ FullPath graphql.ID }) *gqlProject {
	st := q.s.st
	p := st.projectByPath(string(args.FullPath))
	u := gqlUser(ctx)
	if p == nil {
		return nil
	}
	if readable := p.visibility == "public" || u != nil && st.canRead(u, p); !readable {
		return nil
	}
	return &gqlProject{s: q.s, p: p, u: u}
}

type gqlProject struct {
	s *Server
	p *project
	u *user
}

func (p *gqlProject) ID() graphql.ID {
	return graphql.ID("gid://gitlab/Project/" + strconv.FormatInt(p.p.id, 10))
}
func (p *gqlProject) FullPath() graphql.ID { return graphql.ID(p.p.fullPath) }
func (p *gqlProject) Name() string         { return p.p.name }

func (p *gqlProject) UserPermissions() *gqlProjectPermissions {
	return &gqlProjectPermissions{level: p.s.st.accessOf(p.u, p.p)}
}

// ClusterAgent is AgentsResolver.single: an agent of the project by name, for a caller with
// read_cluster_agent (Developer).
func (p *gqlProject) ClusterAgent(args struct{ Name string }) *gqlAgent {
	if p.s.st.accessOf(p.u, p.p) < accessDeveloper {
		return nil
	}
	for _, a := range p.s.st.agentsOf(p.p.id) {
		if a.name == args.Name {
			return &gqlAgent{project: p, a: a}
		}
	}
	return nil
}

// gqlProjectPermissions are the abilities of ProjectPermissions that the mock answers: read_project
// (a project the caller can see) and admin_project (Maintainer, who also has admin_cluster).
type gqlProjectPermissions struct{ level int }

func (g *gqlProjectPermissions) ReadProject() bool  { return true }
func (g *gqlProjectPermissions) AdminProject() bool { return g.level >= accessMaintainer }

type gqlAgent struct {
	project *gqlProject
	a       *agent
}

func (a *gqlAgent) ID() graphql.ID {
	return graphql.ID("gid://gitlab/Clusters::Agent/" + strconv.FormatInt(a.a.id, 10))
}
func (a *gqlAgent) Name() *string       { return &a.a.name }
func (a *gqlAgent) CreatedAt() *gqlTime { return &gqlTime{a.a.createdAt} }
func (a *gqlAgent) UpdatedAt() *gqlTime { return &gqlTime{a.a.createdAt} }
func (a *gqlAgent) Project() *gqlProject {
	return a.project
}

func (a *gqlAgent) WebPath() *string {
	p := fmt.Sprintf("/%s/-/cluster_agents/%s", a.project.p.fullPath, a.a.name)
	return &p
}

// GitLab's errors for a KAS it cannot ask: the exception class name.
var (
	errKASUnavailable   = errors.New("GRPC::Unavailable")
	errKASNotConfigured = errors.New("Gitlab::Kas::Client::ConfigurationError")
)

type gqlConnectionsArgs struct {
	After, Before *string
	First, Last   *int32
}

// Connections is AgentConnectionsResolver: nothing below admin_cluster (Maintainer), else what KAS's
// AgentTracker tells.
func (a *gqlAgent) Connections(args gqlConnectionsArgs) (*gqlConnectedAgentConnection, error) {
	s := a.project.s
	if s.st.accessOf(a.project.u, a.project.p) < accessMaintainer {
		return &gqlConnectedAgentConnection{}, nil
	}
	switch {
	case s.settings.KASDisabled:
		return nil, errKASNotConfigured
	case s.kasUnreachable:
		return nil, errKASUnavailable
	}
	conns := s.st.connectionsOf(a.a.id)
	out := &gqlConnectedAgentConnection{}
	for i, c := range conns {
		if args.First != nil && len(out.nodes) >= int(*args.First) {
			out.hasNext = true
			break
		}
		out.nodes = append(out.nodes, &gqlConnectedAgent{c: c, cursor: strconv.Itoa(i + 1)})
	}
	return out, nil
}

type gqlConnectedAgentConnection struct {
	nodes   []*gqlConnectedAgent
	hasNext bool
}

func (c *gqlConnectedAgentConnection) Nodes() *[]*gqlConnectedAgent {
	nodes := append([]*gqlConnectedAgent{}, c.nodes...)
	return &nodes
}

func (c *gqlConnectedAgentConnection) Edges() *[]*gqlConnectedAgentEdge {
	edges := []*gqlConnectedAgentEdge{}
	for _, n := range c.nodes {
		edges = append(edges, &gqlConnectedAgentEdge{n})
	}
	return &edges
}

func (c *gqlConnectedAgentConnection) PageInfo() *gqlPageInfo {
	pi := &gqlPageInfo{hasNext: c.hasNext}
	if len(c.nodes) > 0 {
		pi.start, pi.end = &c.nodes[0].cursor, &c.nodes[len(c.nodes)-1].cursor
	}
	return pi
}

type gqlConnectedAgentEdge struct{ n *gqlConnectedAgent }

func (e *gqlConnectedAgentEdge) Cursor() string           { return e.n.cursor }
func (e *gqlConnectedAgentEdge) Node() *gqlConnectedAgent { return e.n }

type gqlPageInfo struct {
	hasNext    bool
	start, end *string
}

func (p *gqlPageInfo) HasNextPage() bool     { return p.hasNext }
func (p *gqlPageInfo) HasPreviousPage() bool { return false }
func (p *gqlPageInfo) StartCursor() *string  { return p.start }
func (p *gqlPageInfo) EndCursor() *string    { return p.end }

type gqlConnectedAgent struct {
	c      *agentConnection
	cursor string
}

func (c *gqlConnectedAgent) ConnectedAt() *gqlTime { return &gqlTime{c.c.connectedAt} }
func (c *gqlConnectedAgent) ConnectionID() *gqlBigInt {
	id := gqlBigInt(c.c.id)
	return &id
}
func (c *gqlConnectedAgent) Metadata() *gqlAgentMetadata { return &gqlAgentMetadata{c.c} }
func (c *gqlConnectedAgent) Warnings() *[]*gqlAgentWarning {
	out := []*gqlAgentWarning{}
	for _, w := range c.c.warnings {
		out = append(out, &gqlAgentWarning{w})
	}
	return &out
}

type gqlAgentMetadata struct{ c *agentConnection }

func (m *gqlAgentMetadata) Version() *string      { return &m.c.version }
func (m *gqlAgentMetadata) Commit() *string       { return &m.c.commit }
func (m *gqlAgentMetadata) PodNamespace() *string { return &m.c.podNamespace }
func (m *gqlAgentMetadata) PodName() *string      { return &m.c.podName }

type gqlAgentWarning struct{ w AgentVersionWarning }

func (w *gqlAgentWarning) Version() *gqlAgentVersionWarning { return &gqlAgentVersionWarning{w.w} }

type gqlAgentVersionWarning struct{ w AgentVersionWarning }

func (w *gqlAgentVersionWarning) Message() *string { return &w.w.Message }
func (w *gqlAgentVersionWarning) Type() *string    { return &w.w.Type }

// graphqlErrors is GitLab's answer for a request it refuses before running the query.
func graphqlErrors(status int, msg string) *response {
	return jsonResponse(status, map[string]any{"errors": []map[string]string{{"message": msg}}})
}

// authenticateGraphQL applies GraphqlController's authentication: no credential is the anonymous
// user; a credential that does not authenticate a user with the api or read_api scope is 401
// "Invalid token".
func (s *Server) authenticateGraphQL(req *apiRequest) *response {
	tok := credential(req.r, req.params)
	if tok == "" {
		return nil
	}
	u := s.st.userByToken[tok]
	if u == nil {
		return graphqlErrors(http.StatusUnauthorized, "Invalid token")
	}
	if t, limited := s.st.tokenLimits[tok]; limited {
		usable := t.State == "" || t.State == accessTokenActive
		scoped := len(t.Scopes) == 0 || slices.Contains(t.Scopes, "api") || slices.Contains(t.Scopes, "read_api")
		if !usable || !scoped {
			return graphqlErrors(http.StatusUnauthorized, "Invalid token")
		}
	}
	req.user = u
	return nil
}

// graphqlRequest is the JSON body of a GraphQL request.
type graphqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// readGraphQLBody reads the body of POST /api/graphql.
func readGraphQLBody(r *http.Request) ([]byte, *response) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		return nil, graphqlErrors(http.StatusBadRequest, "Request body too large")
	}
	return body, nil
}

// serveGraphQL runs one GraphQL request (under the server lock).
func (s *Server) serveGraphQL(req *apiRequest) *response {
	var body graphqlRequest
	if err := json.Unmarshal(req.body, &body); err != nil || body.Query == "" {
		// graphql-ruby's answer to a request without a query document.
		return jsonResponse(http.StatusOK, map[string]any{"errors": []map[string]string{{"message": "No query string was present"}}})
	}
	if len(body.Query) > maxGraphQLQueryLength {
		return graphqlErrors(http.StatusUnprocessableEntity, "Query too large")
	}
	ctx := context.WithValue(req.r.Context(), gqlUserKey{}, req.user)
	result := s.graphql.Exec(ctx, body.Query, body.OperationName, body.Variables)
	return jsonResponse(http.StatusOK, result)
}
