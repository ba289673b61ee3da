package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var _ datasource.DataSourceWithConfigure = (*clusterAgentConnectionsDataSource)(nil)

func newClusterAgentConnectionsDataSource() datasource.DataSource {
	return &clusterAgentConnectionsDataSource{}
}

// clusterAgentConnectionsDataSource reads an agent's agentk connections from GitLab's GraphQL API, and
// can wait for the first one.
type clusterAgentConnectionsDataSource struct{ dataSourceClient }

// Bounds of wait_for_connection, and how often it asks GitLab: first after firstPoll, then less and
// less often, up to every maxPoll.
const (
	minConnectionWait = time.Second
	maxConnectionWait = time.Hour
	firstPoll         = time.Second
	maxPoll           = 10 * time.Second
)

type clusterAgentConnectionsModel struct {
	ID                types.String `tfsdk:"id"`
	Project           types.String `tfsdk:"project"`
	ProjectID         types.Int64  `tfsdk:"project_id"`
	AgentID           types.Int64  `tfsdk:"agent_id"`
	AgentName         types.String `tfsdk:"agent_name"`
	WaitForConnection types.String `tfsdk:"wait_for_connection"`
	Connected         types.Bool   `tfsdk:"connected"`
	Connections       types.List   `tfsdk:"connections"`
}

var (
	agentWarningType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"type":    types.StringType,
		"message": types.StringType,
	}}
	agentConnectionType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"connection_id": types.Int64Type,
		"connected_at":  types.StringType,
		"version":       types.StringType,
		"commit":        types.StringType,
		"pod_namespace": types.StringType,
		"pod_name":      types.StringType,
		"warnings":      types.ListType{ElemType: agentWarningType},
	}}
)

func (d *clusterAgentConnectionsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_connections"
}

func (d *clusterAgentConnectionsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The active connections of an agent for Kubernetes: one per agentk pod connected to " +
			"GitLab's agent server (KAS), from GitLab's GraphQL API. `connected` says whether agentk is connected at " +
			"all. With `wait_for_connection`, reading waits for the first connection, so that a `check` block or a " +
			"`postcondition` verifies in the same apply that a cluster installed with the agent's token has " +
			"connected.\n\nGitLab shows connections only to users with at least the **Maintainer** role in the " +
			"agent's project; a token with the `api` or `read_api` scope is needed. Where GitLab cannot tell (KAS " +
			"unreachable or disabled, a caller below Maintainer), reading fails and says why, rather than reporting " +
			"\"not connected\".",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>`, with the numeric project ID.",
				Computed:            true,
			},
			"agent_name": schema.StringAttribute{
				MarkdownDescription: "Name of the agent.",
				Computed:            true,
			},
			"wait_for_connection": schema.StringAttribute{
				MarkdownDescription: "Wait up to this long for agentk to connect, a Go duration between `1s` and `1h` " +
					"such as `\"3m\"`. GitLab is asked every second at first, then less often (every 10 seconds at " +
					"most). If no agentk has connected by then, reading fails with an error listing what to check. " +
					"Unset, the connections are read once, connected or not. A data source whose arguments are known is " +
					"read at plan time: give it `depends_on` the resource that installs agentk (e.g. its " +
					"`helm_release`), so that it waits during the apply, once agentk is installed.",
				Optional:   true,
				Validators: []validator.String{durationBetween(minConnectionWait, maxConnectionWait)},
			},
			"connected": schema.BoolAttribute{
				MarkdownDescription: "Whether at least one agentk is connected.",
				Computed:            true,
			},
			"connections": schema.ListNestedAttribute{
				MarkdownDescription: "The agent's connections, oldest first; empty when none.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"connection_id": schema.Int64Attribute{
						MarkdownDescription: "ID of the connection, given by KAS.",
						Computed:            true,
					},
					"connected_at": schema.StringAttribute{
						MarkdownDescription: "When agentk connected (RFC 3339, whole seconds).",
						Computed:            true,
					},
					"version": schema.StringAttribute{
						MarkdownDescription: "agentk's version, e.g. `v18.0.0`.",
						Computed:            true,
					},
					"commit": schema.StringAttribute{
						MarkdownDescription: "The commit agentk was built from.",
						Computed:            true,
					},
					"pod_namespace": schema.StringAttribute{
						MarkdownDescription: "Namespace of agentk's pod.",
						Computed:            true,
					},
					"pod_name": schema.StringAttribute{
						MarkdownDescription: "Name of agentk's pod.",
						Computed:            true,
					},
					"warnings": schema.ListNestedAttribute{
						MarkdownDescription: "Warnings GitLab gives about this agentk, such as a version too far from " +
							"KAS's; empty when none, and on GitLab versions without connection warnings.",
						Computed: true,
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"type": schema.StringAttribute{
								MarkdownDescription: "Kind of warning, as GitLab names it.",
								Computed:            true,
							},
							"message": schema.StringAttribute{
								MarkdownDescription: "The warning.",
								Computed:            true,
							},
						}},
					},
				}},
			},
		},
	}
	addScopeAttributes(resp.Schema.Attributes, true)
}

func (d *clusterAgentConnectionsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterAgentConnectionsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client := d.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var wait time.Duration
	if s := m.WaitForConnection.ValueString(); s != "" {
		var err error
		if wait, err = time.ParseDuration(s); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("wait_for_connection"), "Invalid duration", err.Error())
			return
		}
	}
	ref, err := client.AgentRef(ctx, m.Project.ValueString(), m.AgentID.ValueInt64())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	conns, err := waitForConnections(ctx, client, ref, wait)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if wait > 0 && len(conns) == 0 {
		resp.Diagnostics.AddError(fmt.Sprintf("Agent %d did not connect within %s", ref.AgentID, wait),
			notConnectedDetail(ref, wait))
		return
	}
	m.ID = types.StringValue(stateID(ref.ProjectID, ref.AgentID))
	m.ProjectID = types.Int64Value(ref.ProjectID)
	m.AgentName = types.StringValue(ref.AgentName)
	m.Connected = types.BoolValue(len(conns) > 0)
	var diags diag.Diagnostics
	m.Connections, diags = connectionsValue(conns)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// waitForConnections reads the connections until there is one or wait has passed (once when wait is
// 0). Errors end the wait: they say that GitLab cannot tell, not that agentk is not connected.
func waitForConnections(ctx context.Context, client *gitlab.Client, ref gitlab.AgentRef, wait time.Duration) ([]gitlab.AgentConnection, error) {
	deadline := time.Now().Add(wait)
	interval := firstPoll
	for {
		conns, err := client.Connections(ctx, ref)
		if err != nil || len(conns) > 0 {
			return conns, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return conns, nil
		}
		timer := time.NewTimer(min(interval, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, &gitlab.Error{Summary: fmt.Sprintf("Stopped waiting for agent %d to connect", ref.AgentID),
				Detail: fmt.Sprintf("The run was interrupted (%v) while waiting for agentk to connect for agent %d; "+
					"no agentk had connected by then.", ctx.Err(), ref.AgentID)}
		case <-timer.C:
		}
		interval = min(interval*2, maxPoll)
	}
}

// notConnectedDetail lists what to check when agentk did not connect.
func notConnectedDetail(ref gitlab.AgentRef, wait time.Duration) string {
	return fmt.Sprintf("GitLab's agent server (KAS) saw no agentk connect for agent %d (%q) of project %q within %s. "+
		"Check, in this order:\n"+
		"  - agentk runs: kubectl get pods -n <the Helm release's namespace>; a pod that is not Running or restarts "+
		"tells why in its events (kubectl describe pod).\n"+
		"  - agentk's logs: kubectl logs -n <namespace> -l app.kubernetes.io/name=gitlab-agent; \"unauthenticated\" "+
		"means a wrong token, a dial or TLS error a wrong address or a blocked network.\n"+
		"  - The token: the chart's config.token (or config.secretName) must hold an active token of this agent; "+
		"a revoked or replaced token cannot connect. The agent's tokens show last_used_at once agentk has used one "+
		"(data source gitlabagent_cluster_agent_tokens).\n"+
		"  - The KAS address: the chart's config.kasAddress must be the gitlabagent_kas data source's "+
		"external_url (wss://kas.gitlab.com on GitLab.com, wss://<GitLab host>/-/kubernetes-agent/ for a Linux "+
		"package install by default), not GitLab's own URL.\n"+
		"  - The network: the cluster must reach that address (outbound HTTPS/WebSocket, or gRPC on port 8150), "+
		"through any proxy or firewall on the way, and trust its certificate (config.kasCaCert for a private CA).\n"+
		"Raise wait_for_connection if the cluster is only slow to pull the image.",
		ref.AgentID, ref.AgentName, ref.ProjectPath, wait)
}

// connectionsValue is the connections attribute.
func connectionsValue(conns []gitlab.AgentConnection) (types.List, diag.Diagnostics) {
	var diags diag.Diagnostics
	elems := make([]attr.Value, 0, len(conns))
	for _, c := range conns {
		warnings := make([]attr.Value, 0, len(c.Warnings))
		for _, w := range c.Warnings {
			v, ds := types.ObjectValue(agentWarningType.AttrTypes, map[string]attr.Value{
				"type":    types.StringPointerValue(w.Type),
				"message": types.StringPointerValue(w.Message),
			})
			diags.Append(ds...)
			warnings = append(warnings, v)
		}
		warningList, ds := types.ListValue(agentWarningType, warnings)
		diags.Append(ds...)
		connectedAt := types.StringNull()
		if c.ConnectedAt != nil {
			connectedAt = types.StringValue(c.ConnectedAt.UTC().Format(time.RFC3339))
		}
		v, ds := types.ObjectValue(agentConnectionType.AttrTypes, map[string]attr.Value{
			"connection_id": types.Int64PointerValue(c.ConnectionID),
			"connected_at":  connectedAt,
			"version":       types.StringPointerValue(c.Version),
			"commit":        types.StringPointerValue(c.Commit),
			"pod_namespace": types.StringPointerValue(c.PodNamespace),
			"pod_name":      types.StringPointerValue(c.PodName),
			"warnings":      warningList,
		})
		diags.Append(ds...)
		elems = append(elems, v)
	}
	list, ds := types.ListValue(agentConnectionType, elems)
	diags.Append(ds...)
	return list, diags
}
