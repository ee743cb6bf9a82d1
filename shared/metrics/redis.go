package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

var redisSeconds = latency("surge_redis_command_duration_seconds",
	"Redis round trips, by command (lower case; a pipeline is one round trip, command \"pipeline\"; a new connection's handshake \"handshake\").", "command")

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
		redisSeconds.WithLabelValues(pipelineName(cmds)).Observe(time.Since(start).Seconds())
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

// pipelineName is "pipeline", or "handshake" for the pipeline go-redis
// sends on a new connection (HELLO, AUTH, SELECT, CLIENT SETINFO).
func pipelineName(cmds []redis.Cmder) string {
	if len(cmds) > 0 {
		switch cmds[0].Name() {
		case "hello", "auth", "select", "client":
			return "handshake"
		}
	}
	return "pipeline"
}
