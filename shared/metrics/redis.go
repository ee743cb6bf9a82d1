package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

var redisSeconds = latency("surge_redis_command_duration_seconds",
	"Redis round trips, by command (lower case; a pipeline is one round trip, command \"pipeline\").", "command")

// RedisHook times every command and pipeline a go-redis client sends:
// add it with client.AddHook(metrics.RedisHook{}).
type RedisHook struct{}

var _ redis.Hook = RedisHook{}

// DialHook leaves dials alone.
func (RedisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook times one command, labelled by its name.
func (RedisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		redisSeconds.WithLabelValues(commandName(cmd)).Observe(time.Since(start).Seconds())
		return err
	}
}

// ProcessPipelineHook times one pipeline (or MULTI/EXEC) round trip.
func (RedisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		redisSeconds.WithLabelValues("pipeline").Observe(time.Since(start).Seconds())
		return err
	}
}

// commandName is cmd's name in lower case: go-redis gives it so already
// for its own commands; Do("XYZ") may not.
func commandName(cmd redis.Cmder) string {
	name := cmd.Name()
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}
