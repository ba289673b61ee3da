#!/usr/bin/env bash
# Try the provider end to end, with nothing but Go and Terraform: build the
# provider and the mock GitLab, apply examples/demo against the mock, print
# the agent server's address, wait while agentk connects (the mock plays it),
# rotate the agent token, check that a second plan is empty, destroy, clean up.
#
# Usage: scripts/demo.sh   (or: make demo)
#        TF=tofu scripts/demo.sh   (or: make demo TF=tofu) to run it with OpenTofu
#
# Nothing outside a temporary directory is touched except ./bin: Terraform
# uses a CLI configuration written there (TF_CLI_CONFIG_FILE) whose
# dev_overrides point at ./bin, never ~/.terraformrc.
set -euo pipefail

readonly PROVIDER_SOURCE="gitlabagent/gitlabagent"
readonly PROVIDER_BINARY="terraform-provider-gitlabagent"
# The maintainer's token in the mock's seed (written below): a mock credential.
readonly MOCK_TOKEN="glpat-mock-maintainer-0000000"
readonly TOKEN_ADDRESS="gitlabagent_cluster_agent_token.demo"
# The Terraform binary: TF=tofu (or a path) runs the demo with OpenTofu.
readonly TF="${TF:-terraform}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
bin_dir="${root}/bin"
readonly bin_dir

work=""
mock_pid=""

step() { printf '\n==> %s\n' "$*"; }
fail() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

# Ctrl-C while Terraform runs: Terraform gets the signal too and stops
# cleanly; the demo stops once it has (see run_terraform). Otherwise at once.
interrupted=false
tf_pid=""
on_interrupt() {
  interrupted=true
  [[ -n "${tf_pid}" ]] || exit 130
}

# run_terraform runs terraform in the background and waits for it, so that a
# Ctrl-C stops the demo even when Terraform handles it and exits 0 (bash does
# not act on a SIGINT its foreground child handled).
run_terraform() {
  local rc=0
  "${TF}" "$@" &
  tf_pid=$!
  while :; do
    rc=0
    wait "${tf_pid}" || rc=$?
    kill -0 "${tf_pid}" 2>/dev/null || break # else a trap interrupted wait
  done
  tf_pid=""
  if [[ "${interrupted}" == true ]]; then
    exit 130
  fi
  return "${rc}"
}

# Runs on every exit, including Ctrl-C and failures: stop the mock first (it
# holds nothing worth keeping: its state lives in memory), then report.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP PIPE
  local stopped=false
  if [[ -n "${mock_pid}" ]] && kill -0 "${mock_pid}" 2>/dev/null; then
    kill "${mock_pid}" 2>/dev/null || true
    wait "${mock_pid}" 2>/dev/null || true
    stopped=true
  fi
  local mock_log=""
  if [[ -n "${work}" && -d "${work}" ]]; then
    if ((rc != 0)) && [[ -s "${work}/mock.err" ]]; then
      mock_log="$(cat "${work}/mock.err")"
    fi
    rm -rf "${work}"
  fi
  [[ "${stopped}" == true ]] && step "Stopped the mock GitLab and removed the temporary directory"
  if ((rc == 0)); then
    printf '\nDemo finished: everything it created is gone.\n'
  else
    [[ -n "${mock_log}" ]] && printf '\nMock GitLab log:\n%s\n' "${mock_log}" >&2
    printf '\nDemo failed (exit code %d); cleaned up.\n' "${rc}" >&2
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap on_interrupt INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

command -v go >/dev/null 2>&1 || fail "go is not on PATH: the demo needs Go and Terraform (>= 1.11) or OpenTofu (>= 1.11)."
command -v "${TF}" >/dev/null 2>&1 ||
  fail "${TF} is not on PATH: the demo needs Terraform (>= 1.11) or OpenTofu (>= 1.11); set TF to its name or path."

work="$(mktemp -d "${TMPDIR:-/tmp}/gitlabagent-demo.XXXXXX")"

cd "${root}"

step "Building the provider into ${bin_dir}"
go build -ldflags "-X main.version=demo" -o "${bin_dir}/${PROVIDER_BINARY}" .

step "Building the mock GitLab"
go build -o "${work}/mockgitlab" ./internal/mockgitlab/cmd/mockgitlab

step "Starting the mock GitLab on a free loopback port"
# The GitLab it plays: EE Ultimate with receptive agents switched on, as an
# administrator would (GitLab's default is off), and PEM certificates.
cat >"${work}/seed.json" <<EOF
{
  "users": [
    {"id": 1, "username": "root", "name": "Administrator", "admin": true, "tokens": []},
    {"id": 2, "username": "maintainer", "name": "Maintainer", "admin": false, "tokens": ["${MOCK_TOKEN}"]}
  ],
  "projects": [
    {"id": 20, "path_with_namespace": "root/test", "name": "test", "description": "",
     "members": {"maintainer": "maintainer"}}
  ],
  "settings": {"edition": "ee", "licence": "ultimate", "receptive_agents": true, "certificate_encoding": "pem"}
}
EOF
# In its own process group (set -m), so that Ctrl-C reaches Terraform, which
# stops cleanly while the mock still answers, and not the mock; cleanup stops it.
set -m
"${work}/mockgitlab" -listen 127.0.0.1:0 -seed "${work}/seed.json" >"${work}/mock.out" 2>"${work}/mock.err" &
mock_pid=$!
set +m

# The mock prints its API URL as the first line of its output.
base_url=""
for _ in $(seq 1 100); do
  kill -0 "${mock_pid}" 2>/dev/null || fail "the mock GitLab exited before it printed its URL."
  if [[ -s "${work}/mock.out" ]]; then
    IFS= read -r base_url <"${work}/mock.out" || true
    [[ "${base_url}" == */api/v4 ]] && break
  fi
  sleep 0.1
done
[[ "${base_url}" == http://127.0.0.1:*/api/v4 ]] || fail "the mock GitLab did not print its URL (got '${base_url}')."

# Wait until it answers: any HTTP status will do (401 without a token); a
# TCP connection where curl is missing.
answers() {
  if command -v curl >/dev/null 2>&1; then
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "${base_url}/user" 2>/dev/null || true)" =~ ^[1-5][0-9][0-9]$ ]]
  else
    local hostport="${base_url#http://}"
    hostport="${hostport%%/*}"
    (exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}") 2>/dev/null
  fi
}
answered=false
for _ in $(seq 1 50); do
  if answers; then
    answered=true
    break
  fi
  sleep 0.1
done
[[ "${answered}" == true ]] || fail "the mock GitLab at ${base_url} does not answer."
echo "Mock GitLab at ${base_url} (GitLab EE Ultimate, project root/test, receptive agents switched on)"

step "Pointing Terraform at the provider just built (dev_overrides, temporary CLI configuration)"
cat >"${work}/terraform.rc" <<EOF
provider_installation {
  dev_overrides {
    "${PROVIDER_SOURCE}" = "${bin_dir}"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="${work}/terraform.rc"
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1
export GITLAB_BASE_URL="${base_url}"
export GITLAB_TOKEN="${MOCK_TOKEN}"
echo "TF_CLI_CONFIG_FILE=${TF_CLI_CONFIG_FILE}"
echo "GITLAB_BASE_URL=${GITLAB_BASE_URL}"

# Colours only on a terminal; one line per warning (the dev_overrides warning
# would otherwise fill the screen at every command).
color=()
[[ -t 1 ]] || color=(-no-color)
tf_flags=(-input=false -compact-warnings ${color[@]+"${color[@]}"})

cp -R "${root}/examples/demo" "${work}/demo"
cd "${work}/demo"

step "Applying examples/demo: two agents, a configuration file, a token, a URL configuration, a data source"
run_terraform apply -auto-approve "${tf_flags[@]}"

step "Outputs (the token stays sensitive)"
"${TF}" output ${color[@]+"${color[@]}"}
token_before="$("${TF}" output -raw token_id)"
echo "agentk connects to: $("${TF}" output -raw kas_address) (data source gitlabagent_kas, from GitLab's GET /metadata)"

# agentk would run in a cluster, installed with the token and the KAS address
# (see the guide "Bootstrap a cluster in one apply"). Here the mock plays it:
# a control endpoint connects the agent, a few seconds into the apply below,
# which waits for it.
agent_id="$("${TF}" output -raw agent_id)"
control_url="${base_url%/api/v4}/-/mock/agents/${agent_id}/connections"
if command -v curl >/dev/null 2>&1; then
  step "Waiting for agentk: ${TF} apply -var wait_for_agentk=2m; agentk connects 3 seconds in (the mock plays it)"
  (
    sleep 3
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
      -d '{"pod_name":"gitlab-agent-demo-7d9c5-x2bq4","pod_namespace":"gitlab-agent-demo"}' "${control_url}" &&
      echo "    (mock) agentk connected for agent ${agent_id}: POST ${control_url}"
  ) &
  connector_pid=$!
  run_terraform apply -auto-approve "${tf_flags[@]}" -var wait_for_agentk=2m
  wait "${connector_pid}" 2>/dev/null || true
  "${TF}" output ${color[@]+"${color[@]}"} agentk
else
  echo "curl is not on PATH: skipping agentk's connection (the mock's control endpoint needs it)."
fi

step "Rotating the token: ${TF} apply -replace=${TOKEN_ADDRESS}"
run_terraform apply -auto-approve "${tf_flags[@]}" -replace="${TOKEN_ADDRESS}"
token_after="$("${TF}" output -raw token_id)"
[[ "${token_after}" != "${token_before}" ]] || fail "the token was not replaced (token_id is still ${token_after})."
echo "Token ${token_after} replaced token ${token_before}; create_before_destroy created it before revoking the old one."
# Ask GitLab: a revoked token answers 404. The API token goes in a header
# file, not on curl's command line.
if command -v curl >/dev/null 2>&1; then
  printf 'PRIVATE-TOKEN: %s\n' "${GITLAB_TOKEN}" >"${work}/auth-header"
  old_status="$(curl -s -o /dev/null -w '%{http_code}' -H @"${work}/auth-header" \
    "${base_url}/projects/root%2Ftest/cluster_agents/${agent_id}/tokens/${token_before}")"
  [[ "${old_status}" == 404 ]] || fail "the old token ${token_before} is not revoked (GitLab answered ${old_status})."
  echo "GitLab reports token ${token_before} revoked."
fi

step "Checking that a second plan is empty"
plan_rc=0
run_terraform plan -detailed-exitcode "${tf_flags[@]}" || plan_rc=$?
case "${plan_rc}" in
  0) echo "No changes: the configuration and GitLab agree." ;;
  2) fail "the second plan is not empty." ;;
  *) fail "${TF} plan failed (exit code ${plan_rc})." ;;
esac

step "Destroying everything"
run_terraform destroy -auto-approve "${tf_flags[@]}"
