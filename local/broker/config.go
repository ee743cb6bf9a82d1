package broker

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/surgekit/surge/shared/tracing"
)

// Config configures a Broker. The zero value of every optional field picks
// the default named in its comment; call fill via New.
type Config struct {
	// Listen is the ingress address (default 127.0.0.1:8080; port 0 picks one,
	// see Broker.Addr).
	Listen string
	// Listener, when set, is used instead of listening on Listen (a socket
	// the process inherited, see shared/socket).
	Listener net.Listener
	// StoreDir holds the JetStream file store (required).
	StoreDir string
	// TriggersDir holds the Trigger and PingSource manifests (default infra/knative/base).
	TriggersDir string
	// BrokerName selects the triggers whose spec.broker matches (default surge).
	BrokerName string
	// Namespace is reported in PingSource event sources (default default).
	Namespace string
	// Services maps a Knative Service name to its base URL; every subscriber
	// and dead-letter sink ref must resolve here.
	Services map[string]string
	// Workers is the number of concurrent deliveries per trigger (default 64).
	Workers int
	// DuplicateDelivery delivers every event twice to each subscriber, the
	// second after the first returns, to prove the subscribers idempotent.
	DuplicateDelivery bool
	// PingInterval overrides the PingSource schedules (0 = from the schedule).
	PingInterval time.Duration
	// SyncInterval is how often JetStream fsyncs its files (0 = the NATS
	// default, two minutes). An acknowledged event is in the OS page cache,
	// so it survives kill -9 of the broker; a power loss or kernel crash can
	// lose up to SyncInterval of acknowledged events.
	SyncInterval time.Duration
	// SyncAlways fsyncs every write before the acknowledgement: nothing is
	// lost on power loss, at a large cost in ingest throughput.
	SyncAlways bool
	// MaxEventBytes bounds an ingress request body (default 1 MiB).
	MaxEventBytes int64
	// DedupWindow is how long JetStream remembers an event's source+id to
	// drop identical re-sends (default 2 minutes).
	DedupWindow time.Duration
	// DrainTimeout bounds how long Run waits for in-flight deliveries on
	// shutdown (default 5s); unfinished ones are redelivered after restart.
	DrainTimeout time.Duration
	// Pprof serves net/http/pprof under /debug/pprof/ on the ingress
	// listener, for CPU profiles under load (make bench). Off by default.
	Pprof bool
	// Tracing records a span per event ingested and per delivery attempt
	// (nil: off); the caller shuts it down after Run.
	Tracing *tracing.Tracing
}

func (c *Config) fill() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.TriggersDir == "" {
		c.TriggersDir = "infra/knative/base"
	}
	if c.BrokerName == "" {
		c.BrokerName = "surge"
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.Workers == 0 {
		c.Workers = 64
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = 1 << 20
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = 2 * time.Minute
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 5 * time.Second
	}
}

func (c *Config) validate() error {
	if c.StoreDir == "" {
		return errors.New("config: StoreDir is required")
	}
	if c.Workers < 0 || c.PingInterval < 0 || c.SyncInterval < 0 || c.MaxEventBytes < 0 {
		return fmt.Errorf("config: Workers, PingInterval, SyncInterval and MaxEventBytes must not be negative")
	}
	return nil
}
