package broker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const subjectPrefix = "events."

// publishConns is how many in-process client connections share the
// publishes. One connection serialises every publish on its lock: with
// a hundred ingress requests and the replies of three triggers in flight,
// make bench found most of them queued on it and the broker's cores idle.
const publishConns = 8

// store is the durable event log: an embedded NATS server with JetStream
// file storage, reached through in-process client connections: the first
// for the stream and its consumers, all of them for publishes.
type store struct {
	srv    *server.Server
	conns  []*nats.Conn
	js     jetstream.JetStream   // on conns[0]
	pubs   []jetstream.JetStream // one per connection
	next   atomic.Uint64         // round robin over pubs
	stream jetstream.Stream
}

func openStore(ctx context.Context, cfg Config) (*store, error) {
	srv, err := server.NewServer(&server.Options{
		ServerName:   "surge-broker",
		DontListen:   true,
		JetStream:    true,
		StoreDir:     cfg.StoreDir,
		SyncInterval: cfg.SyncInterval,
		SyncAlways:   cfg.SyncAlways,
		NoSigs:       true,
		NoLog:        true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats server: not ready after 10s")
	}
	s := &store{srv: srv}
	if err := s.connect(ctx, cfg); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *store) connect(ctx context.Context, cfg Config) error {
	for range publishConns {
		nc, err := nats.Connect("", nats.InProcessServer(s.srv), nats.MaxReconnects(-1))
		if err != nil {
			return fmt.Errorf("nats connect: %w", err)
		}
		s.conns = append(s.conns, nc)
		js, err := jetstream.New(nc)
		if err != nil {
			return fmt.Errorf("jetstream: %w", err)
		}
		s.pubs = append(s.pubs, js)
	}
	s.js = s.pubs[0]
	var err error
	s.stream, err = s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       "broker-" + cfg.BrokerName,
		Subjects:   []string{subjectPrefix + ">"},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.InterestPolicy, // an event goes once every trigger acked it
		Duplicates: cfg.DedupWindow,
	})
	if err != nil {
		return fmt.Errorf("create stream: %w", err)
	}
	return nil
}

// publish stores one encoded event (see storedMsg) and returns once
// JetStream acknowledged it. A non-empty msgID makes JetStream drop
// re-sends within its window; duplicate tells it dropped this one.
func (s *store) publish(ctx context.Context, msg *nats.Msg, msgID string) (duplicate bool, err error) {
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	js := s.pubs[(s.next.Add(1)-1)%uint64(len(s.pubs))]
	ack, err := js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		return false, fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	return ack.Duplicate, nil
}

// pruneConsumers deletes durable consumers of triggers that no longer exist,
// so that interest retention does not keep their events forever.
func (s *store) pruneConsumers(ctx context.Context, keep map[string]bool) error {
	names := s.stream.ConsumerNames(ctx)
	var stale []string
	for n := range names.Name() {
		if !keep[n] {
			stale = append(stale, n)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("list consumers: %w", err)
	}
	for _, n := range stale {
		if err := s.stream.DeleteConsumer(ctx, n); err != nil {
			return fmt.Errorf("delete stale consumer %s: %w", n, err)
		}
	}
	return nil
}

func (s *store) close() {
	for _, nc := range s.conns {
		nc.Close()
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}
