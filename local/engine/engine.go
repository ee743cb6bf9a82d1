// Package engine runs the whole of Surge on one machine: the local broker
// and every function as its own process (restarted when it crashes, as on
// Kubernetes), behind one HTTP gateway. `make up` and the end-to-end tests
// both start it; the dependency servers come from local/servers.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Functions are the deployable functions, each a main under functions/.
func Functions() []string {
	return []string{"captcha", "prededuct", "enqueue", "settle", "reconcile", "query", "admin"}
}

// Deps locates the dependency servers and this engine's share of them.
type Deps struct {
	RedisURL, KeyPrefix, DatabaseURL               string
	S3Endpoint, S3AccessKey, S3SecretKey, S3Bucket string
}

// Secrets are the keys the functions need; make up keeps them across runs.
type Secrets struct {
	JWTSecret     string
	AdminToken    string
	ReceiptKey    string // base64 of a 32-byte Ed25519 seed
	CaptchaSecret string
	EventKey      string // signs the events that start work (shared/eventsig)
}

// Config is one engine.
type Config struct {
	Root        string // the repository: the Triggers are read from infra/knative/base
	BinDir      string // where Build put the binaries
	StateDir    string // broker store and process logs
	GatewayAddr string // 127.0.0.1:0 picks a free port
	Deps        Deps
	Secrets     Secrets
	// DuplicateDelivery makes the broker deliver every event twice.
	DuplicateDelivery bool
	// TriggersDir is where the broker reads its Trigger and PingSource
	// manifests (Root's infra/knative/base when empty): a test gives it a
	// copy with shorter retries.
	TriggersDir string
	// DedupWindow is how long the broker drops a re-send of an event's
	// source + id (0: the broker's default, 2 minutes).
	DedupWindow time.Duration
	// Profiling makes the broker and every function serve net/http/pprof
	// (-pprof, SURGE_PPROF=true) for CPU profiles under load; see Targets.
	Profiling bool
	// Env is added to every function's environment (e.g. SURGE_CAPTCHA_MIN_AGE=0)
	// and to the broker's (OTEL_*: the broker traces its hops).
	Env []string
	// Instances runs more than one process of a function (1 when absent),
	// each on its own port; the gateway spreads requests over them round
	// robin, as a Service over its pods. Process names are name, name-2, …
	Instances map[string]int
	Log       *slog.Logger
}

// Engine is a running broker, functions and gateway.
type Engine struct {
	cfg       Config
	procs     map[string]*process
	services  map[string]string   // a function's first instance
	replicas  map[string][]string // a function's further instances, by Config.Instances
	brokerURL string
	gwURL     string
}

// Start launches the broker and the functions, waits until every one is
// ready, then serves the gateway.
func Start(ctx context.Context, cfg Config) (*Engine, error) {
	e := &Engine{cfg: cfg, procs: make(map[string]*process), services: make(map[string]string), replicas: make(map[string][]string)}
	if err := e.start(ctx); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

func (e *Engine) start(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(e.cfg.StateDir, "logs"), 0o755); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	bound := make(map[string]*net.TCPListener)
	for _, name := range Functions() {
		ln, err := bind("127.0.0.1:0")
		if err != nil {
			return err
		}
		bound[name] = ln
		e.services[name] = "http://" + ln.Addr().String()
	}
	brokerLn, err := bind("127.0.0.1:0")
	if err != nil {
		return err
	}
	e.brokerURL = "http://" + brokerLn.Addr().String()
	if err := e.launch("broker", "broker", brokerLn, e.brokerArgs(brokerLn.Addr().String()), e.brokerEnv()); err != nil {
		return err
	}
	for _, name := range Functions() {
		if err := e.launch(name, name, bound[name], nil, e.functionEnv(e.services[name])); err != nil {
			return err
		}
		if err := e.launchReplicas(name); err != nil {
			return err
		}
	}
	if err := e.waitReady(ctx); err != nil {
		return err
	}
	return e.startGateway(ctx)
}

// launchReplicas starts a function's instances beyond the first.
func (e *Engine) launchReplicas(name string) error {
	for i := 2; i <= e.cfg.Instances[name]; i++ {
		ln, err := bind("127.0.0.1:0")
		if err != nil {
			return err
		}
		base := "http://" + ln.Addr().String()
		if err := e.launch(fmt.Sprintf("%s-%d", name, i), name, ln, nil, e.functionEnv(base)); err != nil {
			return err
		}
		e.replicas[name] = append(e.replicas[name], base)
	}
	return nil
}

// launch runs process name from binary bin, serving on ln.
func (e *Engine) launch(name, bin string, ln *net.TCPListener, args, env []string) error {
	p := &process{
		name: name, bin: filepath.Join(e.cfg.BinDir, bin), args: args, env: env,
		logf: filepath.Join(e.cfg.StateDir, "logs", name+".log"), log: e.cfg.Log,
		addr: ln.Addr().String(), bound: ln,
	}
	if err := p.start(); err != nil {
		return err
	}
	e.procs[name] = p
	return nil
}

func (e *Engine) brokerArgs(addr string) []string {
	triggers := e.cfg.TriggersDir
	if triggers == "" {
		triggers = filepath.Join(e.cfg.Root, "infra", "knative", "base")
	}
	args := []string{
		"-listen", addr,
		"-store", filepath.Join(e.cfg.StateDir, "broker"),
		"-triggers", triggers,
	}
	if e.cfg.DedupWindow > 0 {
		args = append(args, "-dedup-window", e.cfg.DedupWindow.String())
	}
	for _, name := range Functions() {
		args = append(args, "-service", name+"="+e.services[name])
	}
	if e.cfg.DuplicateDelivery {
		args = append(args, "-duplicate")
	}
	if e.cfg.Profiling {
		args = append(args, "-pprof")
	}
	return args
}

// brokerEnv is the broker's environment: Config.Env goes to it as to the
// functions, so the OTEL_* settings a test or make bench gives trace the
// broker's hops too.
func (e *Engine) brokerEnv() []string { return append(os.Environ(), e.cfg.Env...) }

// functionEnv is the environment of a function instance serving at base.
func (e *Engine) functionEnv(base string) []string {
	d, s := e.cfg.Deps, e.cfg.Secrets
	env := append(os.Environ(),
		"LISTEN_ADDRESS="+base[len("http://"):],
		"K_SINK="+e.brokerURL,
		"SURGE_REDIS_URL="+d.RedisURL,
		"SURGE_KEY_PREFIX="+d.KeyPrefix,
		"SURGE_DATABASE_URL="+d.DatabaseURL,
		"SURGE_S3_ENDPOINT="+d.S3Endpoint,
		"SURGE_S3_ACCESS_KEY="+d.S3AccessKey,
		"SURGE_S3_SECRET_KEY="+d.S3SecretKey,
		"SURGE_S3_BUCKET="+d.S3Bucket,
		"SURGE_JWT_SECRET="+s.JWTSecret,
		"SURGE_ADMIN_TOKEN="+s.AdminToken,
		"SURGE_RECEIPT_KEY="+s.ReceiptKey,
		"SURGE_CAPTCHA_SECRET="+s.CaptchaSecret,
		"SURGE_EVENT_KEY="+s.EventKey,
		"SURGE_SETTLE_URL="+e.services["settle"],
	)
	if e.cfg.Profiling {
		env = append(env, "SURGE_PPROF=true")
	}
	return append(env, e.cfg.Env...)
}

// waitReady polls every process's readiness path.
func (e *Engine) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for name, base := range e.Targets() {
		if err := waitHTTP(ctx, base+"/health/readiness"); err != nil {
			return fmt.Errorf("engine: %s not ready (see %s): %w", name, e.procs[name].logf, err)
		}
	}
	return nil
}

func waitHTTP(ctx context.Context, url string) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startGateway runs local/cmd/gateway in a process of its own, as Envoy
// runs apart from the functions, and waits until it routes.
func (e *Engine) startGateway(ctx context.Context) error {
	addr := e.cfg.GatewayAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := bind(addr)
	if err != nil {
		return fmt.Errorf("gateway listen: %w", err)
	}
	addr = ln.Addr().String()
	args := []string{"-listen", addr}
	for name, urls := range e.instances() {
		for _, u := range urls {
			args = append(args, "-service", name+"="+u)
		}
	}
	if e.cfg.Profiling {
		args = append(args, "-pprof")
	}
	if err := e.launch("gateway", "gateway", ln, args, os.Environ()); err != nil {
		return err
	}
	e.gwURL = "http://" + addr
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitHTTP(ctx, e.gwURL+"/v1/keys"); err != nil {
		return fmt.Errorf("engine: gateway not routing (see %s): %w", e.procs["gateway"].logf, err)
	}
	return nil
}

// URL is the gateway's base URL.
func (e *Engine) URL() string { return e.gwURL }

// BrokerURL is the broker ingress (K_SINK of the functions).
func (e *Engine) BrokerURL() string { return e.brokerURL }

// ServiceURL is a function's own address, for driving it directly.
func (e *Engine) ServiceURL(name string) string { return e.services[name] }

// InstanceURLs are the addresses of every instance of a function, the
// first one first.
func (e *Engine) InstanceURLs(name string) []string { return e.instances()[name] }

// Kill crashes a process with SIGKILL; its supervisor restarts it.
func (e *Engine) Kill(name string) error { return e.signal(name, syscall.SIGKILL) }

// Pause freezes a process (SIGSTOP): it holds its connections and answers
// nothing, like a function stuck in a long GC or a network partition.
func (e *Engine) Pause(name string) error { return e.signal(name, syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (e *Engine) Resume(name string) error { return e.signal(name, syscall.SIGCONT) }

func (e *Engine) signal(name string, sig syscall.Signal) error {
	p, ok := e.procs[name]
	if !ok {
		return fmt.Errorf("engine: no process %q", name)
	}
	return p.signal(sig)
}

// Restarts counts how often a process was restarted after dying.
func (e *Engine) Restarts(name string) int {
	p := e.procs[name]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// instances maps each function to the base URLs of all its instances.
func (e *Engine) instances() map[string][]string {
	all := make(map[string][]string, len(e.services))
	for name, base := range e.services {
		all[name] = append([]string{base}, e.replicas[name]...)
	}
	return all
}

// Stop shuts the gateway, then the functions, then the broker down.
func (e *Engine) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if p, ok := e.procs["gateway"]; ok {
		p.stop(ctx, 10*time.Second)
	}
	for name, p := range e.procs {
		if name != "broker" && name != "gateway" {
			p.stop(ctx, 10*time.Second)
		}
	}
	if p, ok := e.procs["broker"]; ok {
		p.stop(ctx, 10*time.Second)
	}
}

// bind listens on addr (port 0 picks a free port) for a process the
// engine starts: the engine binds every port itself and hands the socket
// down (shared/socket), so no other program can take a port between its
// pick and the process's start. Picking a free port, closing it and
// letting the process bind it later lost that race once: two processes
// got the same port, the readiness probe of one was answered by the
// other, and the gateway sent admin's calls to the broker.
func bind(addr string) (*net.TCPListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("engine: listen on %s: %w", addr, err)
	}
	return ln.(*net.TCPListener), nil
}
