package broker

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// PingType is the CloudEvent type a PingSource emits.
const PingType = "dev.knative.sources.ping"

// PingSource is a sources.knative.dev/v1 PingSource as written in the manifests.
type PingSource struct {
	Name        string      `json:"name"`
	Namespace   string      `json:"namespace,omitempty"`
	Schedule    string      `json:"schedule"`
	ContentType string      `json:"contentType,omitempty"`
	Data        string      `json:"data,omitempty"`
	Sink        Destination `json:"sink"`
	// Extensions are spec.ceOverrides.extensions: set on every ping (the
	// shadow plane's reconcile-tick-shadow carries surgeshadow).
	Extensions map[string]string `json:"extensions,omitempty"`
}

type pingSpec struct {
	Spec struct {
		Schedule    string      `json:"schedule"`
		ContentType string      `json:"contentType,omitempty"`
		Data        string      `json:"data,omitempty"`
		Sink        Destination `json:"sink"`
		CEOverrides *struct {
			Extensions map[string]string `json:"extensions,omitempty"`
		} `json:"ceOverrides,omitempty"`
	} `json:"spec"`
}

// LoadPingSources returns the PingSource objects of the manifests in dir.
func LoadPingSources(dir string) ([]PingSource, error) {
	objs, err := loadObjects(dir)
	if err != nil {
		return nil, err
	}
	var ps []PingSource
	for _, o := range objs {
		if o.Kind != "PingSource" || !strings.HasPrefix(o.APIVersion, "sources.knative.dev/") {
			continue
		}
		var s pingSpec
		if err := o.decodeAs(&s); err != nil {
			return nil, err
		}
		p := PingSource{Name: o.Metadata.Name, Namespace: o.Metadata.Namespace,
			Schedule: s.Spec.Schedule, ContentType: s.Spec.ContentType, Data: s.Spec.Data, Sink: s.Spec.Sink}
		if s.Spec.CEOverrides != nil {
			p.Extensions = s.Spec.CEOverrides.Extensions
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// targets reports whether the source's sink is the named broker.
func (p PingSource) targets(broker string) bool {
	r := p.Sink.Ref
	return r != nil && r.Kind == "Broker" && r.Name == broker
}

// scheduleInterval supports the cron subset "* * * * *" (every minute),
// "*/N * * * *" (every N minutes) and "0 * * * *" (hourly). Ticks are not
// aligned to the wall clock.
func scheduleInterval(schedule string) (time.Duration, error) {
	f := strings.Fields(schedule)
	if len(f) != 5 || f[1] != "*" || f[2] != "*" || f[3] != "*" || f[4] != "*" {
		return 0, fmt.Errorf("schedule %q: only \"* * * * *\", \"*/N * * * *\" and \"0 * * * *\" are supported locally", schedule)
	}
	switch f[0] {
	case "*":
		return time.Minute, nil
	case "0":
		return time.Hour, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(f[0], "*/"))
	if !strings.HasPrefix(f[0], "*/") || err != nil || n < 1 || n > 59 {
		return 0, fmt.Errorf("schedule %q: minute field must be * or */N with N in 1..59", schedule)
	}
	return time.Duration(n) * time.Minute, nil
}

// pinger emits one PingSource's events into the stream.
type pinger struct {
	src      PingSource
	source   string
	interval time.Duration
	ing      ingester
	log      *slog.Logger
}

func newPinger(p PingSource, namespace string, override time.Duration, ing ingester, log *slog.Logger) (pinger, error) {
	interval, err := scheduleInterval(p.Schedule)
	if err != nil {
		return pinger{}, fmt.Errorf("pingsource %s: %w", p.Name, err)
	}
	if override > 0 {
		interval = override
	}
	if p.Namespace != "" {
		namespace = p.Namespace
	}
	source := "/apis/v1/namespaces/" + namespace + "/pingsources/" + p.Name
	return pinger{src: p, source: source, interval: interval, ing: ing, log: log}, nil
}

// run ticks until ctx is done.
func (p pinger) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.emit(ctx, now)
		}
	}
}

func (p pinger) emit(ctx context.Context, now time.Time) {
	e := event.New()
	e.SetID(rand.Text())
	e.SetType(PingType)
	e.SetSource(p.source)
	e.SetTime(now)
	if p.src.Data != "" {
		ct := p.src.ContentType
		if ct == "" {
			ct = event.TextPlain
		}
		_ = e.SetData(ct, []byte(p.src.Data)) // []byte is stored as is, no error
	}
	for k, v := range p.src.Extensions {
		if err := e.Context.SetExtension(k, v); err != nil {
			p.log.ErrorContext(ctx, "ping extension refused", "pingsource", p.src.Name, "extension", k, "err", err)
			return
		}
	}
	if err := p.ing.ingest(ctx, &e, true); err != nil && ctx.Err() == nil {
		p.log.ErrorContext(ctx, "ping not stored", "id", e.ID(), "type", e.Type(), "source", e.Source(), "err", err)
	}
}
