package manifest_test

import (
	"slices"
	"testing"

	"github.com/surgekit/surge/infra/validate/manifest"
)

func TestReadEnv(t *testing.T) {
	env, err := manifest.ReadEnv(repo)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		function string
		want     []string
	}{
		{"captcha", []string{"K_SINK", "SURGE_CAPTCHA_SECRET", "SURGE_CAPTCHA_TTL", "SURGE_JWT_SECRET", "SURGE_REDIS_URL"}},
		{"settle", []string{"SURGE_DATABASE_URL", "SURGE_RECEIPT_KEY", "SURGE_SETTLE_POOL_SIZE", "SURGE_TIMEOUT"}},
		{"admin", []string{"SURGE_ADMIN_TOKEN", "SURGE_KEY_PREFIX"}},
		{"reconcile", []string{"SURGE_S3_BUCKET", "SURGE_S3_ENDPOINT", "SURGE_S3_SECRET_KEY"}},
	}
	for _, tt := range tests {
		for _, w := range tt.want {
			if !slices.Contains(env[tt.function], w) {
				t.Errorf("ReadEnv()[%s] = %v, want it to hold %s", tt.function, env[tt.function], w)
			}
		}
	}
	if got := len(env); got != 7 {
		t.Errorf("ReadEnv() has %d functions, want 7", got)
	}
	if slices.Contains(env["settle"], "K_SINK") {
		t.Errorf("ReadEnv()[settle] holds K_SINK: settle replies, it does not publish")
	}
}
