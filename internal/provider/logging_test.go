package provider

import (
	"maps"
	"testing"
)

func TestQuietLogSettings(t *testing.T) {
	quiet := map[string]string{
		"TF_LOG_SDK":                  "OFF",
		"TF_LOG_SDK_PROTO":            "OFF",
		"TF_LOG_SDK_FRAMEWORK":        "OFF",
		"TF_LOG_PROVIDER_GITLABAGENT": "OFF",
	}
	base := []string{"PATH=/usr/bin", "HOME=/root", "TF_CLI_CONFIG_FILE=/x/terraform.rc", "TF_IN_AUTOMATION=1", "TF_LOGGING_IS_NOT_ASKED="}
	for _, tc := range []struct {
		name  string
		env   []string
		debug bool
		want  map[string]string
	}{
		{name: "no log variable", env: base, want: quiet},
		{name: "log variables set but empty", env: append(base, "TF_LOG=", "TF_LOG_PROVIDER=", "TF_LOG_PATH="), want: quiet},
		{name: "TF_LOG", env: append(base, "TF_LOG=DEBUG")},
		{name: "TF_LOG=JSON", env: append(base, "TF_LOG=JSON")},
		{name: "TF_LOG_PROVIDER", env: append(base, "TF_LOG_PROVIDER=TRACE")},
		{name: "TF_LOG_PROVIDER for this provider", env: append(base, "TF_LOG_PROVIDER_GITLABAGENT=DEBUG")},
		{name: "TF_LOG_PATH", env: append(base, "TF_LOG_PATH=/tmp/tf.log")},
		{name: "TF_LOG_CORE", env: append(base, "TF_LOG_CORE=TRACE")},
		{name: "TF_LOG_SDK", env: append(base, "TF_LOG_SDK=TRACE")},
		{name: "TF_LOG_SDK_PROTO", env: append(base, "TF_LOG_SDK_PROTO=DEBUG")},
		{name: "TF_LOG_SDK_FRAMEWORK", env: append(base, "TF_LOG_SDK_FRAMEWORK=TRACE")},
		{name: "TF_LOG_SDK_PROTO_DATA_DIR", env: append(base, "TF_LOG_SDK_PROTO_DATA_DIR=/tmp/proto")},
		{name: "TF_ACC_LOG_PATH", env: append(base, "TF_ACC_LOG_PATH=/tmp/acc.log")},
		{name: "debug mode", env: base, debug: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := QuietLogSettings(tc.env, tc.debug)
			if !maps.Equal(got, tc.want) {
				t.Errorf("QuietLogSettings = %v, want %v", got, tc.want)
			}
		})
	}
}
