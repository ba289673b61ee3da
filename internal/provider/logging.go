package provider

import (
	"strings"
)

// providerLogEnv sets the level of the provider's own log: terraform-plugin-go
// names it from the provider's address (TF_LOG_PROVIDER_<NAME>).
const providerLogEnv = "TF_LOG_PROVIDER_GITLABAGENT"

// QuietLogSettings returns the environment variables that turn off the log
// output of the provider, the plugin framework and terraform-plugin-go, or
// nil when the logs may be wanted.
//
// Without them the provider writes every log line at TRACE (terraform-plugin-go
// and the framework default to it) and Terraform decodes each one only to
// drop it when TF_LOG and TF_LOG_PROVIDER are unset (what that costs:
// docs/benchmarks.md). The logs may be wanted, and nothing is changed, when any
// TF_LOG* variable is set (TF_LOG, TF_LOG_PROVIDER, TF_LOG_PATH, TF_LOG_CORE,
// TF_LOG_SDK, TF_LOG_SDK_PROTO, TF_LOG_SDK_FRAMEWORK,
// TF_LOG_PROVIDER_GITLABAGENT, …), when TF_ACC_LOG_PATH is (the testing
// framework's log file), or when the provider runs with -debug, where its own
// standard error is the log a developer reads. main sets them before it serves
// NewServer.
func QuietLogSettings(environ []string, debug bool) map[string]string {
	if debug {
		return nil
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if value != "" && (strings.HasPrefix(name, "TF_LOG") || name == "TF_ACC_LOG_PATH") {
			return nil
		}
	}
	return map[string]string{
		"TF_LOG_SDK":           "OFF",
		"TF_LOG_SDK_PROTO":     "OFF",
		"TF_LOG_SDK_FRAMEWORK": "OFF",
		providerLogEnv:         "OFF",
	}
}
