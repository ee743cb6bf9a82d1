package enginetest

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/servers/servertest"
)

// Start runs one engine on a fresh slice of the suite's servers (its own
// database, key prefix and bucket) with new secrets, and stops it when t
// ends. cfg carries the test's own settings (DuplicateDelivery, Profiling,
// Env); the rest is filled here, and captcha answers are taken at once
// (SURGE_CAPTCHA_MIN_AGE=0s). A cfg.Deps.RedisURL of the test's own (a
// Redis it kills) replaces the suite's.
func (s *Suite) Start(t testing.TB, cfg engine.Config) (*engine.Engine, servertest.Env, engine.Secrets) {
	t.Helper()
	env := servertest.Fresh(t, s.Deps)
	if cfg.Deps.RedisURL != "" {
		env.RedisURL = cfg.Deps.RedisURL
	}
	cfg.Root, cfg.BinDir, cfg.StateDir = s.Root, s.BinDir, t.TempDir()
	cfg.Deps = engine.Deps{
		RedisURL: env.RedisURL, KeyPrefix: env.KeyPrefix, DatabaseURL: env.DatabaseURL,
		S3Endpoint: env.S3Endpoint, S3AccessKey: env.S3AccessKey, S3SecretKey: env.S3SecretKey, S3Bucket: env.S3Bucket,
	}
	cfg.Secrets = engine.NewSecrets()
	cfg.Env = append([]string{"SURGE_CAPTCHA_MIN_AGE=0s"}, cfg.Env...)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(e.Stop)
	return e, env, cfg.Secrets
}
