package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/surgekit/surge/local/engine"
)

// loadSecrets reads the engine's secrets, generating them on first run so
// tokens and receipts stay valid across restarts. A file written before a
// secret existed gets that secret filled in and is written back, the
// others kept.
func loadSecrets(path string) (engine.Secrets, error) {
	var s engine.Secrets
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &s); err != nil {
			return s, fmt.Errorf("secrets %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return s, fmt.Errorf("secrets: %w", err)
	}
	if !s.Fill() {
		return s, nil
	}
	data, _ = json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return s, fmt.Errorf("secrets: %w", err)
	}
	return s, nil
}

// writeEnv writes .surge/env, a shell-sourceable file for scripts and people.
func writeEnv(path, url string, d engine.Deps, s engine.Secrets) error {
	vars := [][2]string{
		{"SURGE_URL", url},
		{"SURGE_ADMIN_TOKEN", s.AdminToken},
		{"SURGE_JWT_SECRET", s.JWTSecret},
		{"SURGE_DATABASE_URL", d.DatabaseURL},
		{"SURGE_REDIS_URL", d.RedisURL},
		{"SURGE_KEY_PREFIX", d.KeyPrefix},
		{"SURGE_S3_ENDPOINT", d.S3Endpoint},
		{"SURGE_S3_BUCKET", d.S3Bucket},
		{"SURGE_S3_ACCESS_KEY", d.S3AccessKey},
		{"SURGE_S3_SECRET_KEY", d.S3SecretKey},
	}
	var b strings.Builder
	b.WriteString("# written by make up; source it: . .surge/env\n")
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s='%s'\n", v[0], v[1])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func printWelcome(w io.Writer, url, state string) {
	fmt.Fprintf(w, `
Surge is up at %[1]s   (logs: %[2]s/logs, Ctrl-C stops, data is kept)

  . .surge/env
  # a sale that opens now: 100 phones, one per user
  curl -s -XPOST $SURGE_URL/v1/campaigns -H "Authorization: Bearer $SURGE_ADMIN_TOKEN" -H "Content-Type: application/json" -d '{
    "id":"demo","kind":"sale","title":"Demo","items":[{"sku":"phone-x","stock":100,"price":99900}],
    "per_user_limit":1,"starts_at":"'$(date -u +%%FT%%TZ)'","ends_at":"2099-01-01T00:00:00Z",
    "payment_window":"10m","captcha":false}'
  curl -s -XPOST $SURGE_URL/v1/campaigns/demo/warmup -H "Authorization: Bearer $SURGE_ADMIN_TOKEN"
  # a user token (HS256, sub = user id)
  TOKEN=$(go run ./local/cmd/jwt -user alice)
  curl -s -XPOST $SURGE_URL/v1/campaigns/demo/claims -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -d '{"sku":"phone-x","qty":1}'
  curl -s $SURGE_URL/v1/claims/<claim_id> -H "Authorization: Bearer $TOKEN"
  curl -s $SURGE_URL/v1/orders -H "Authorization: Bearer $TOKEN"
  curl -s $SURGE_URL/v1/campaigns/demo/stock
  # the storefront, as that user, in a browser
  echo "$SURGE_URL/?campaign=demo#token=$TOKEN"

`, url, state)
}
