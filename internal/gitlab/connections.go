package gitlab

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The agentk connections of an agent come from GitLab's GraphQL API (Project.clusterAgent(name:)
// .connections), which asks KAS's agent tracker. GitLab answers:
//   - null for a project the caller cannot see, and null for an agent it does not find or the caller
//     may not read (Developer), without an error;
//   - an empty list of connections to a caller below admin_cluster (Maintainer), connected or not;
//   - null connections plus an error named after the exception when KAS cannot be asked
//     ("GRPC::Unavailable", "GRPC::DeadlineExceeded", …, "Gitlab::Kas::Client::ConfigurationError").
// Each is told apart here, so that "not connected" means that KAS saw no agentk.

// AgentConnection is one agentk (one pod) connected to KAS for an agent.
type AgentConnection struct {
	ConnectionID *int64
	ConnectedAt  *time.Time
	Version      *string // agentk's version, e.g. v18.0.0
	Commit       *string
	PodNamespace *string
	PodName      *string
	Warnings     []AgentWarning
}

// AgentWarning is a warning KAS gives about a connection, e.g. an agentk version too far from KAS's.
type AgentWarning struct {
	Type    *string
	Message *string
}

// AgentRef names an agent the way GraphQL looks it up: by its project's full path and its name.
type AgentRef struct {
	// Project is the project as the user wrote it.
	Project     string
	ProjectID   int64
	ProjectPath string
	AgentID     int64
	AgentName   string
}

// AgentConnections is what GitLab tells about an agent's connections.
type AgentConnections struct {
	AgentRef
	Connections []AgentConnection
}

// kasUnreachableSummary starts the summary of an error that GitLab could not ask KAS.
const kasUnreachableSummary = "GitLab could not ask its agent server (KAS) about the agent's connections"

// IsKASUnreachable reports whether GitLab could not ask KAS (unreachable or not configured), as opposed
// to an agent that is not connected.
func IsKASUnreachable(err error) bool {
	var e *Error
	return errors.As(err, &e) && strings.HasPrefix(e.Summary, kasUnreachableSummary)
}

const connectionsQuery = `query agentConnections($project: ID!, $agent: String!) {
  project(fullPath: $project) {
    userPermissions { adminProject }
    clusterAgent(name: $agent) {
      id
      name
      connections {
        nodes {
          connectedAt
          connectionId
          metadata { version commit podNamespace podName }
          %s
        }
      }
    }
  }
}`

// warningsField asks for the warnings, which GitLab versions before their introduction do not know.
const warningsField = "warnings { version { message type } }"

type connectionsData struct {
	Project *struct {
		UserPermissions struct {
			AdminProject bool `json:"adminProject"`
		} `json:"userPermissions"`
		ClusterAgent *struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			Connections *struct {
				Nodes []*struct {
					ConnectedAt  *time.Time `json:"connectedAt"`
					ConnectionID *string    `json:"connectionId"`
					Metadata     *struct {
						Version      *string `json:"version"`
						Commit       *string `json:"commit"`
						PodNamespace *string `json:"podNamespace"`
						PodName      *string `json:"podName"`
					} `json:"metadata"`
					Warnings []*struct {
						Version *struct {
							Message *string `json:"message"`
							Type    *string `json:"type"`
						} `json:"version"`
					} `json:"warnings"`
				} `json:"nodes"`
			} `json:"connections"`
		} `json:"clusterAgent"`
	} `json:"project"`
}

// AgentConnections reads the agentk connections of an agent: the agent by REST (its name and its
// project's full path, which GraphQL looks agents up by), then its connections by GraphQL.
func (c *Client) AgentConnections(ctx context.Context, project string, agentID int64) (*AgentConnections, error) {
	ref, err := c.AgentRef(ctx, project, agentID)
	if err != nil {
		return nil, err
	}
	conns, err := c.Connections(ctx, ref)
	if err != nil {
		return nil, err
	}
	return &AgentConnections{AgentRef: ref, Connections: conns}, nil
}

// AgentRef reads an agent (one REST request) for Connections.
func (c *Client) AgentRef(ctx context.Context, project string, agentID int64) (AgentRef, error) {
	agent, err := c.GetAgent(ctx, project, agentID)
	if err != nil {
		return AgentRef{}, err
	}
	ref := AgentRef{Project: project, ProjectID: agent.ConfigProject.ID, ProjectPath: agent.ConfigProject.PathWithNamespace,
		AgentID: agentID, AgentName: agent.Name}
	if ref.ProjectPath == "" {
		ref.ProjectPath = project
	}
	return ref, nil
}

// Connections reads the agentk connections of an agent (one GraphQL request).
func (c *Client) Connections(ctx context.Context, ref AgentRef) ([]AgentConnection, error) {
	t := Target{Project: ref.Project, Agent: fmt.Sprintf("agent %d (%q)", ref.AgentID, ref.AgentName)}
	action := fmt.Sprintf("read the connections of agent %d", ref.AgentID)
	vars := map[string]any{"project": ref.ProjectPath, "agent": ref.AgentName}
	out, err := graphQL[connectionsData](ctx, c, action, fmt.Sprintf(connectionsQuery, warningsField), vars, t)
	if err == nil && out.Data == nil && len(out.Errors) > 0 && strings.Contains(out.Errors[0].Message, "'warnings'") {
		// A GitLab from before connection warnings: ask without them.
		out, err = graphQL[connectionsData](ctx, c, action, fmt.Sprintf(connectionsQuery, ""), vars, t)
	}
	if err != nil {
		return nil, err
	}
	return connectionsFrom(out, ref.ProjectPath, ref.AgentName, ref.AgentID, action, t)
}

// connectionsFrom reads GitLab's answer, telling each null and empty answer apart.
func connectionsFrom(out *graphQLResponse[connectionsData], fullPath, name string, agentID int64, action string, t Target) ([]AgentConnection, error) {
	messages := make([]string, 0, len(out.Errors))
	for _, e := range out.Errors {
		messages = append(messages, e.Message)
	}
	said := strings.Join(messages, "; ")
	fail := func(summary, detail string, facts ...any) error {
		e := &Error{Status: 200, GitLabMessage: said, Summary: summary, Detail: detail}
		for _, f := range facts {
			switch f := f.(type) {
			case Setting:
				e.Check = append(e.Check, f)
			case Kind:
				e.Kind = f
			}
		}
		return e
	}
	if out.Data == nil {
		return nil, fail("Failed to "+action, fmt.Sprintf("GitLab's GraphQL API refused the query for %s: %s. "+
			"Check that the API URL points at GitLab 15.x or later.", t, said), SettingURL)
	}
	p := out.Data.Project
	switch {
	case p == nil:
		return nil, fail(fmt.Sprintf("GitLab's GraphQL API does not show project %q", fullPath), fmt.Sprintf(
			"GitLab's REST API showed %s, but its GraphQL API answered null for project %q, as it does for a "+
				"project that does not exist or that the token's user cannot see. The project may have been renamed "+
				"or moved in the meantime: run again, and check the project reference and that the token's user is still a member.",
			t, fullPath), SettingProject)
	case p.ClusterAgent == nil:
		return nil, fail(fmt.Sprintf("GitLab's GraphQL API does not show agent %q of project %q", name, fullPath), fmt.Sprintf(
			"GitLab's GraphQL API answered null for agent %q of project %q, as it does for an agent that does not "+
				"exist and for a caller without the Developer role in the project. The agent may have been renamed or "+
				"deleted in the meantime: run again, and check `agent_id` and the token user's role.", name, fullPath))
	case p.ClusterAgent.Connections == nil:
		if strings.Contains(said, "ConfigurationError") {
			return nil, fail(kasUnreachableSummary+": KAS is not configured", fmt.Sprintf(
				"GitLab answered %q for the connections of %s: its agent server (KAS) is disabled or GitLab has no "+
					"address to reach it (gitlab_kas['enable'] and gitlab_kas['internal_url'] in gitlab.rb, or the "+
					"`kas` settings of the Helm chart). No agent can connect until an administrator enables KAS; "+
					"GET /metadata tells whether it is enabled (kas.enabled).", said, t), KindKASNotConfigured)
		}
		if said == "" {
			said = "no error given"
		}
		return nil, fail(kasUnreachableSummary, fmt.Sprintf(
			"GitLab answered no connections but the error %q for %s: GitLab could not reach its agent server (KAS), "+
				"so whether agentk is connected is unknown. This is not \"not connected\". Check KAS's health "+
				"(gitlab-ctl status gitlab-kas, or the kas pods of the GitLab Helm chart) and the network between "+
				"GitLab and KAS, then run again.", said, t))
	}
	gid := "gid://gitlab/Clusters::Agent/" + strconv.FormatInt(agentID, 10)
	if p.ClusterAgent.ID != "" && p.ClusterAgent.ID != gid {
		return nil, fail(fmt.Sprintf("Agent %q of project %q is no longer agent %d", name, fullPath, agentID), fmt.Sprintf(
			"GitLab's GraphQL API answered %s for the name %q, not agent %d: the agent was deleted and another one "+
				"registered under its name in the meantime. Check `agent_id`.", p.ClusterAgent.ID, name, agentID))
	}
	nodes := p.ClusterAgent.Connections.Nodes
	if len(nodes) == 0 && !p.UserPermissions.AdminProject {
		return nil, fail(fmt.Sprintf("The token's user may not see the connections of agent %d", agentID), fmt.Sprintf(
			"GitLab's GraphQL API answered an empty list of connections for %s, as it does to every caller below "+
				"the Maintainer role in the project, whether agentk is connected or not; so whether it is connected "+
				"is unknown. Use a token of a user with at least the Maintainer role in project %q.", t, fullPath))
	}
	res := []AgentConnection{}
	for _, n := range nodes {
		if n == nil {
			continue
		}
		conn := AgentConnection{ConnectedAt: n.ConnectedAt}
		if n.ConnectionID != nil {
			if id, err := strconv.ParseInt(*n.ConnectionID, 10, 64); err == nil {
				conn.ConnectionID = &id
			}
		}
		if m := n.Metadata; m != nil {
			conn.Version, conn.Commit, conn.PodNamespace, conn.PodName = m.Version, m.Commit, m.PodNamespace, m.PodName
		}
		for _, w := range n.Warnings {
			if w != nil && w.Version != nil {
				conn.Warnings = append(conn.Warnings, AgentWarning{Type: w.Version.Type, Message: w.Version.Message})
			}
		}
		res = append(res, conn)
	}
	return res, nil
}
