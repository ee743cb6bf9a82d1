package connect

import (
	"fmt"
	"time"
)

// Env is the configuration every function reads from its environment:
// where Redis, PostgreSQL and S3 are. Each function reads its own secrets
// beside it.
type Env struct {
	RedisURL    string // SURGE_REDIS_URL
	KeyPrefix   string // SURGE_KEY_PREFIX, "surge" when empty
	DatabaseURL string // SURGE_DATABASE_URL
	S3          S3Config
	S3Bucket    string        // SURGE_S3_BUCKET
	Timeout     time.Duration // SURGE_TIMEOUT: the deadline of one call to a server, 2s default
}

// LoadEnv reads Env through getenv (os.Getenv in main).
func LoadEnv(getenv func(string) string) (Env, error) {
	e := Env{
		RedisURL:    getenv("SURGE_REDIS_URL"),
		KeyPrefix:   getenv("SURGE_KEY_PREFIX"),
		DatabaseURL: getenv("SURGE_DATABASE_URL"),
		S3: S3Config{
			Endpoint:  getenv("SURGE_S3_ENDPOINT"),
			Region:    getenv("SURGE_S3_REGION"),
			AccessKey: getenv("SURGE_S3_ACCESS_KEY"),
			SecretKey: getenv("SURGE_S3_SECRET_KEY"),
		},
		S3Bucket: getenv("SURGE_S3_BUCKET"),
	}
	var err error
	e.Timeout, err = Duration(getenv, "SURGE_TIMEOUT", 2*time.Second)
	return e, err
}

// Duration reads the duration setting name through getenv; def when unset.
func Duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// Require names the first of the given settings that is empty.
func Require(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("%s is required", pairs[i])
		}
	}
	return nil
}
