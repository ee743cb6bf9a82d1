// Command bench is make bench: it starts Redis, PostgreSQL, MinIO, the
// broker and every function the way make up does (or targets a running
// deployment with -url), measures the baselines, the stages, the click
// phase and a crowd, prints the table of ratios and writes
// .surge/bench/latest.json and latest.png. It exits 1 when an invariant failed or the run could not be
// made; speed alone never fails it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/surgekit/surge/local/bench"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/shared/captcha"
)

// options are the command line.
type options struct {
	size       bench.Size
	out        string
	url        string // a running deployment's gateway; "" starts one here
	adminToken string
	jwtSecret  string
	shadow     bool // every campaign and user on the shadow plane
	// dashboardShot is where the crowd's dashboard screenshot goes; "" takes none.
	dashboardShot string
	only          []string // bench.Step… to run; nil runs all
	// answerDelay is the crowd's think time before answering a captcha; -1
	// until set: 0 for the engine started here, captcha.DefaultMinAge for -url.
	answerDelay time.Duration
}

func main() {
	opt, err := parse(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, err := run(ctx, opt, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if failed {
		fmt.Fprintln(os.Stderr, "bench: an invariant failed (see above)")
		os.Exit(1)
	}
}

func parse(args []string, getenv func(string) string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	large := fs.Bool("large", false, "a sale of 10,000 units to 100,000 users (several minutes)")
	users := fs.Int("users", 0, "crowd size (overrides the profile)")
	stock := fs.Int("stock", 0, "units on sale to the crowd (overrides the profile)")
	conc := fs.Int("concurrency", 0, "closed-loop workers (overrides the profile)")
	baseOps := fs.Int("baseline-ops", 0, "operations per baseline run (overrides the profile)")
	stageClaims := fs.Int("stage-claims", 0, "claim events driven into prededuct in the stage runs (overrides the profile)")
	rainUsers := fs.Int("rain-users", 0, "users grabbing the rain (overrides the profile's 100,000)")
	rainPackets := fs.Int("rain-packets", 0, "packets of the rain (overrides the profile's 10,000)")
	rate := fs.Float64("rate", 0, "open loop: crowd arrivals per second (0: closed loop)")
	out := fs.String("out", "", "where latest.json, latest.png and the profiles go (default .surge/bench)")
	url := fs.String("url", "", "measure a running deployment through its gateway instead of starting one")
	clickWindow := fs.Duration("click-window", 0, "each window of the click phase (overrides the profile's 15s)")
	clickConns := fs.Int("click-conns", 0, "keep-alive connections of the click phase (overrides the profile's 100)")
	skipClick := fs.Bool("skip-click", false, "skip the click phase")
	only := fs.String("only", "", "run only these steps, comma-separated: "+strings.Join(bench.Steps(), ","))
	dashboardShot := fs.String("dashboard-shot", "", "save a screenshot of the dashboard during the crowd to this PNG file (starts a headless Chromium: that run's figures suffer)")
	shadow := fs.Bool("shadow", false, "run the click phase and the crowds on the shadow plane, as shadow users: a live deployment (-url) keeps its real stock, orders and statistics")
	answerDelay := fs.Duration("answer-delay", -1, "how long the crowd waits to answer a captcha (default: 0 here, where the engine takes answers at once; 1s against -url)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	opt := options{size: bench.Default, out: *out, url: *url, shadow: *shadow, answerDelay: *answerDelay, dashboardShot: *dashboardShot,
		adminToken: getenv("SURGE_ADMIN_TOKEN"), jwtSecret: getenv("SURGE_JWT_SECRET")}
	if opt.answerDelay < 0 && opt.url != "" {
		opt.answerDelay = captcha.DefaultMinAge
	}
	opt.answerDelay = max(opt.answerDelay, 0)
	if *large {
		opt.size = bench.Large
	}
	for _, o := range []struct {
		v   int
		dst *int
	}{{*users, &opt.size.Users}, {*stock, &opt.size.Stock}, {*conc, &opt.size.Concurrency},
		{*baseOps, &opt.size.BaselineOps}, {*stageClaims, &opt.size.StageClaims},
		{*rainUsers, &opt.size.RainUsers}, {*rainPackets, &opt.size.RainPackets}} {
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	opt.size.Rate = *rate
	if *clickWindow > 0 {
		opt.size.ClickWindow = *clickWindow
	}
	if *clickConns > 0 {
		opt.size.ClickConns = *clickConns
	}
	if *skipClick {
		opt.size.ClickWindow = 0
	}
	if *only != "" {
		opt.only = strings.Split(*only, ",")
	}
	if opt.url != "" && (opt.adminToken == "" || opt.jwtSecret == "") {
		return opt, errors.New("bench -url needs SURGE_ADMIN_TOKEN and SURGE_JWT_SECRET in the environment (. .surge/env after make up)")
	}
	return opt, nil
}

// run measures and writes the report; failed is whether an invariant did
// not hold.
func run(ctx context.Context, opt options, stdout io.Writer) (failed bool, err error) {
	root, err := repoRoot()
	if err != nil {
		return false, err
	}
	if opt.out == "" {
		opt.out = filepath.Join(root, ".surge", "bench")
	}
	if err := os.MkdirAll(opt.out, 0o755); err != nil {
		return false, err
	}
	cfg := bench.Config{Size: opt.size, Gateway: opt.url, AdminToken: opt.adminToken, JWTSecret: opt.jwtSecret, AnswerDelay: opt.answerDelay,
		RedisURL: os.Getenv("SURGE_REDIS_URL"), KeyPrefix: os.Getenv("SURGE_KEY_PREFIX"), DatabaseURL: os.Getenv("SURGE_DATABASE_URL"),
		Dir: opt.out, Log: os.Stderr, Only: opt.only, Shadow: opt.shadow, DashboardShot: opt.dashboardShot}
	if opt.url == "" {
		stop, err := startLocal(ctx, root, opt.out, &cfg)
		if err != nil {
			return false, err
		}
		defer stop()
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return false, err
	}
	if err := bench.Print(stdout, rep); err != nil {
		return false, err
	}
	if err := write(opt.out, rep); err != nil {
		return false, err
	}
	return len(rep.Failed()) > 0, nil
}

// startLocal starts the servers and an engine on a scratch state dir under
// out, as make up does, and fills cfg to drive them; stop stops both and
// removes the scratch state, keeping the logs.
func startLocal(ctx context.Context, root, out string, cfg *bench.Config) (stop func(), err error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	state, err := os.MkdirTemp(out, "run-")
	if err == nil {
		err = os.Chmod(state, 0o755) // PostgreSQL runs as its own user when we are root
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "bench: starting Redis, PostgreSQL and MinIO; building the broker and the functions")
	set, err := servers.Start(ctx, servers.Options{Dir: filepath.Join(state, "servers"), Fsync: true, Log: log})
	if err != nil {
		_ = os.RemoveAll(state)
		return nil, err
	}
	stopAll := func() { _ = set.Stop(); keepLogs(state, out) }
	e, err := startEngine(ctx, root, filepath.Join(out, "bin"), state, set, log, cfg)
	if err != nil {
		stopAll()
		return nil, err
	}
	return func() { e.Stop(); stopAll() }, nil
}

// engineEnv is the environment every engine of make bench adds to its
// functions'. Every simulated user clicks from this host's loopback,
// through the gateway: one client IP, so the per-IP limit is off by
// default (the per-user one, which the click phase stays under, still runs
// on every click; the bot step sets both on its own campaigns). The crowd
// answers captchas at once, as the engine tests do.
var engineEnv = []string{"SURGE_LIMIT_IP_PER_SEC=0", "SURGE_CAPTCHA_MIN_AGE=0s"}

func startEngine(ctx context.Context, root, bin, state string, set *servers.Set, log *slog.Logger, cfg *bench.Config) (*engine.Engine, error) {
	if err := engine.Build(ctx, root, bin); err != nil {
		return nil, err
	}
	e, deps, secrets, err := launch(ctx, root, bin, state, set, log, "surge", true, nil)
	if err != nil {
		return nil, err
	}
	cfg.Gateway, cfg.AdminToken, cfg.JWTSecret, cfg.EventKey = e.URL(), secrets.AdminToken, secrets.JWTSecret, secrets.EventKey
	cfg.RedisURL, cfg.KeyPrefix, cfg.DatabaseURL = deps.RedisURL, deps.KeyPrefix, deps.DatabaseURL
	cfg.Functions, cfg.Profiled = e.Targets(), e.Targets()
	cfg.BrokerStats = e.BrokerURL() + "/debug/triggers"
	cfg.ServerCPU = crowd.ChildrenCPU
	cfg.CPUByCommand = func() (map[string]time.Duration, error) { return crowd.CPUByCommand(os.Getpid()) }
	deployed := 0
	cfg.Deploy = func(ctx context.Context, env []string) (bench.Deployment, func(), error) {
		deployed++
		name := fmt.Sprintf("surge%d", deployed)
		e, _, secrets, err := launch(ctx, root, bin, filepath.Join(state, name), set, log, name, false, env)
		if err != nil {
			return bench.Deployment{}, nil, err
		}
		return bench.Deployment{Gateway: e.URL(), AdminToken: secrets.AdminToken, JWTSecret: secrets.JWTSecret}, e.Stop, nil
	}
	return e, nil
}

// launch starts an engine of the built binaries on a database, bucket and
// key prefix of its own, named name, with env added to engineEnv.
func launch(ctx context.Context, root, bin, state string, set *servers.Set, log *slog.Logger, name string, profiling bool,
	env []string) (*engine.Engine, engine.Deps, engine.Secrets, error) {
	if _, err := set.Postgres.CreateDatabase(ctx, name); err != nil {
		return nil, engine.Deps{}, engine.Secrets{}, err
	}
	if err := set.MinIO.CreateBucket(ctx, name); err != nil {
		return nil, engine.Deps{}, engine.Secrets{}, err
	}
	deps := engine.Deps{RedisURL: set.Redis.URL(), KeyPrefix: name, DatabaseURL: set.Postgres.URL(name),
		S3Endpoint: set.MinIO.Endpoint(), S3AccessKey: servers.MinIOUser, S3SecretKey: servers.MinIOPassword, S3Bucket: name}
	secrets := engine.NewSecrets()
	e, err := engine.Start(ctx, engine.Config{Root: root, BinDir: bin, StateDir: state, Deps: deps, Secrets: secrets,
		Profiling: profiling, Log: log, Env: append(append([]string{}, engineEnv...), env...)})
	return e, deps, secrets, err
}

// keepLogs moves the processes' logs of the scratch state to <out>/logs,
// replacing the last run's, and removes the rest of the state.
func keepLogs(state, out string) {
	logs := filepath.Join(out, "logs")
	_ = os.RemoveAll(logs)
	if err := os.Rename(filepath.Join(state, "logs"), logs); err == nil {
		fmt.Fprintln(os.Stderr, "bench: process logs in", logs)
	}
	_ = os.RemoveAll(state)
}

// write puts latest.json and latest.png in out.
func write(out string, rep bench.Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "latest.json"), data, 0o644); err != nil {
		return err
	}
	if rep.Crowd == nil {
		return nil
	}
	f, err := os.Create(filepath.Join(out, "latest.png"))
	if err != nil {
		return err
	}
	if err := crowd.Chart(f, *rep.Crowd); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and %s\n", filepath.Join(out, "latest.json"), filepath.Join(out, "latest.png"))
	return nil
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return engine.Root(wd)
}
