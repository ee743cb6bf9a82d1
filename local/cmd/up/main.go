// Command up runs the whole engine on this machine, in the foreground until
// Ctrl-C: Redis, PostgreSQL and MinIO as child processes, the local broker,
// every function as its own process, and one HTTP gateway. State (data,
// secrets, logs, binaries) lives under .surge/ and survives restarts.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/servers"
)

// defaultGateway is where the gateway listens unless SURGE_GATEWAY_ADDR says
// otherwise; a free port is taken when it is busy.
const defaultGateway = "127.0.0.1:8088"

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), log); err != nil {
		log.Error("surge up failed", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := engine.Root(wd)
	if err != nil {
		return err
	}
	state := os.Getenv("SURGE_STATE_DIR")
	if state == "" {
		state = filepath.Join(root, ".surge")
	}
	log.Info("starting Redis, PostgreSQL and MinIO", "state", state)
	set, err := servers.Start(ctx, servers.Options{Dir: filepath.Join(state, "servers"), Fsync: true, Log: log})
	if err != nil {
		return err
	}
	defer set.Stop()
	return serve(ctx, log, root, state, set)
}

func serve(ctx context.Context, log *slog.Logger, root, state string, set *servers.Set) error {
	deps, err := prepare(ctx, set)
	if err != nil {
		return err
	}
	secrets, err := loadSecrets(filepath.Join(state, "secrets.json"))
	if err != nil {
		return err
	}
	log.Info("building the broker and the functions", "bin", filepath.Join(state, "bin"))
	if err := engine.Build(ctx, root, filepath.Join(state, "bin")); err != nil {
		return err
	}
	e, err := engine.Start(ctx, engine.Config{
		Root: root, BinDir: filepath.Join(state, "bin"), StateDir: state, GatewayAddr: gatewayAddr(),
		Deps: deps, Secrets: secrets, Log: log,
	})
	if err != nil {
		return err
	}
	defer e.Stop()
	if err := writeEnv(filepath.Join(state, "env"), e.URL(), deps, secrets); err != nil {
		return err
	}
	printWelcome(os.Stdout, e.URL(), state)
	<-ctx.Done()
	log.Info("stopping; data is kept in .surge/ for the next make up")
	return nil
}

// prepare creates the database and the bucket on first run.
func prepare(ctx context.Context, set *servers.Set) (engine.Deps, error) {
	const name = "surge"
	if _, err := set.Postgres.CreateDatabase(ctx, name); err != nil && !errors.Is(err, servers.ErrDatabaseExists) {
		return engine.Deps{}, fmt.Errorf("create database: %w", err)
	}
	if err := set.MinIO.CreateBucket(ctx, name); err != nil {
		return engine.Deps{}, fmt.Errorf("create bucket: %w", err)
	}
	return engine.Deps{
		RedisURL: set.Redis.URL(), KeyPrefix: "surge", DatabaseURL: set.Postgres.URL(name),
		S3Endpoint: set.MinIO.Endpoint(), S3AccessKey: servers.MinIOUser, S3SecretKey: servers.MinIOPassword,
		S3Bucket: name,
	}, nil
}

func gatewayAddr() string {
	addr := os.Getenv("SURGE_GATEWAY_ADDR")
	if addr == "" {
		addr = defaultGateway
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		return addr
	}
	return "127.0.0.1:0"
}
