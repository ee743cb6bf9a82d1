package servers

import (
	"context"
	"errors"
	"log/slog"
)

// redisPackage is redis-server, installed from Debian's package when missing.
var redisPackage = aptPackage{
	name:    "redis-server",
	find:    findRedis,
	missing: errors.New("redis-server not found on PATH or in /usr/bin, /usr/sbin, /usr/local/bin: install it (Debian/Ubuntu: apt-get install redis-server)"),
}

// redisBinary finds redis-server, installing it once when it is missing
// and we may (see aptPackage.installed).
func redisBinary(ctx context.Context, log *slog.Logger) (string, error) {
	return redisPackage.installed(ctx, log)
}

func findRedis() (string, bool) {
	return findProgram([]string{"redis-server"}, "/usr/bin", "/usr/sbin", "/usr/local/bin")
}
