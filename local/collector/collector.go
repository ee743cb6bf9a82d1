// Package collector is a small OpenTelemetry trace collector for tests
// and make bench: an OTLP/HTTP endpoint (POST /v1/traces, protobuf, plain
// or gzip) on a loopback port. It keeps every span it is sent, with its
// service, ids and attributes, or in Discard mode only counts the exports
// and their bytes, as a collector that forwards a crowd's spans takes
// them without holding them.
package collector

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// maxExportBytes bounds one export request, decompressed.
const maxExportBytes = 64 << 20

// Config configures a Collector.
type Config struct {
	// Discard counts exports and bytes without decoding or keeping spans.
	Discard bool
}

// Span is one span as an exporter sent it.
type Span struct {
	Service string // the resource's service.name
	Name    string
	Kind    tracepb.Span_SpanKind
	// TraceID, SpanID and ParentID are lower-case hex; ParentID is empty
	// for a root span.
	TraceID, SpanID, ParentID string
	// Attributes are the span's own, their values formatted as strings.
	Attributes map[string]string
	// Error is set when the span's status is an error.
	Error bool
}

// Collector is a running collector. Start one with Start; Close it.
type Collector struct {
	cfg            Config
	srv            *http.Server
	addr           string
	exports, bytes atomic.Int64
	mu             sync.Mutex
	spans          []Span
}

// Start serves a collector on a free loopback port.
func Start(cfg Config) (*Collector, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("trace collector: %w", err)
	}
	c := &Collector{cfg: cfg, addr: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", c.export)
	c.srv = &http.Server{Handler: mux}
	go func() { _ = c.srv.Serve(ln) }() // returns once Close closes the listener
	return c, nil
}

// URL is the base URL exporters take as OTEL_EXPORTER_OTLP_ENDPOINT.
func (c *Collector) URL() string { return "http://" + c.addr }

// Close stops serving.
func (c *Collector) Close() { _ = c.srv.Close() }

// Exports is how many export requests the collector took.
func (c *Collector) Exports() int64 { return c.exports.Load() }

// Bytes is how many bytes those requests carried, as sent.
func (c *Collector) Bytes() int64 { return c.bytes.Load() }

// Spans is every span taken so far, in the order they came (none in
// Discard mode).
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// export takes one ExportTraceServiceRequest and answers an empty
// ExportTraceServiceResponse: every span accepted. A request that is not
// protobuf, or does not decode, is refused with 415 or 400 and nothing of
// it is kept.
func (c *Collector) export(w http.ResponseWriter, r *http.Request) {
	counted := &countingReader{r: r.Body}
	if c.cfg.Discard {
		_, _ = io.Copy(io.Discard, counted)
		c.took(counted.n, nil)
		writeAnswer(w)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, fmt.Sprintf("content type %q: only application/x-protobuf is taken", ct), http.StatusUnsupportedMediaType)
		return
	}
	spans, err := decode(counted, r.Header.Get("Content-Encoding"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.took(counted.n, spans)
	writeAnswer(w)
}

func (c *Collector) took(n int64, spans []Span) {
	c.exports.Add(1)
	c.bytes.Add(n)
	if len(spans) == 0 {
		return
	}
	c.mu.Lock()
	c.spans = append(c.spans, spans...)
	c.mu.Unlock()
}

func writeAnswer(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK) // an empty response message encodes as no bytes
}

// decode reads an export request's spans from body, gzip-compressed when
// encoding says so.
func decode(body io.Reader, encoding string) ([]Span, error) {
	switch strings.ToLower(encoding) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("content encoding %q: only gzip is taken", encoding)
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxExportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read export: %w", err)
	}
	if len(raw) > maxExportBytes {
		return nil, fmt.Errorf("export over %d bytes", maxExportBytes)
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("not an ExportTraceServiceRequest: %w", err)
	}
	return spansOf(&req), nil
}

// spansOf flattens a request's resources and scopes into Spans.
func spansOf(req *coltracepb.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				out = append(out, Span{
					Service: service, Name: s.GetName(), Kind: s.GetKind(),
					TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentID:   hex.EncodeToString(s.GetParentSpanId()),
					Attributes: attributes(s.GetAttributes()),
					Error:      s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR,
				})
			}
		}
	}
	return out
}

func attributes(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = format(kv.GetValue())
	}
	return m
}

// format writes a scalar attribute value as a string; arrays and maps
// come out in protobuf's text form.
func format(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	default:
		return v.String()
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
