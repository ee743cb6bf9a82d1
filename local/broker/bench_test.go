package broker

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/events"
)

// BenchmarkWinPath measures the broker's share of a win: a claim posted to
// ingress in binary mode, stored, delivered to a subscriber that replies
// with a reservation, the reply stored and delivered to a second
// subscriber answering 202. One op is one claim: 2 events stored, 2
// deliveries, 1 reply read. The subscribers are bare handlers, so the
// cost measured (ns/op with the cores busy, allocs/op of the whole
// process) is the broker's and its clients'.
func BenchmarkWinPath(b *testing.B) {
	var delivered, dials atomic.Int64
	replier := countedServer(replyReserved(b), &dials)
	defer replier.Close()
	sink := countedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		delivered.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}), &dials)
	defer sink.Close()
	url := benchBroker(b, replier.URL, sink.URL)
	header, body := binaryRequest(b, claim("bench"))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var seq atomic.Int64
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			postBench(b, client, url, header, body, "bench-"+strconv.FormatInt(seq.Add(1), 10))
		}
	})
	for delivered.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(dials.Load()), "delivery-conns")
}

// countedServer serves h and counts the connections opened to it.
func countedServer(h http.Handler, conns *atomic.Int64) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	return srv
}

// cpuTime is the CPU time, user and system, the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBroker starts a broker routing claims to replier and reservations
// to sink, and returns its ingress URL.
func benchBroker(b *testing.B, replier, sink string) string {
	b.Helper()
	dir := writeManifests(b,
		testTrigger{name: "prededuct", typ: events.TypeClaimRequested, service: "replier", retry: 5}.manifest(),
		testTrigger{name: "enqueue", typ: events.TypeClaimReserved, service: "sink", retry: 5}.manifest(),
	)
	cfg := Config{Listen: "127.0.0.1:0", StoreDir: b.TempDir(), TriggersDir: dir,
		Services: map[string]string{"replier": replier, "sink": sink}}
	br, err := New(context.Background(), cfg, nil)
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	waitFor(b, 5*time.Second, "broker ready", br.Ready)
	return "http://" + br.Addr().String() + "/"
}

func claim(id string) event.Event {
	return events.ClaimRequested(events.ClaimRequestedData{ClaimID: id, CampaignID: "c1", UserID: "u-" + id,
		SKU: "sku-1", Qty: 1, RequestedAt: time.Unix(1_700_000_000, 0).UTC()})
}

// replyReserved answers a claim with a reservation of the same subject,
// in binary mode, from prebuilt headers: the replier costs next to nothing.
func replyReserved(b *testing.B) http.HandlerFunc {
	header, body := binaryRequest(b, events.ClaimReserved(events.ClaimReservedData{ClaimID: "bench", CampaignID: "c1",
		UserID: "u-bench", SKU: "sku-1", Qty: 1, ReservedAt: time.Unix(1_700_000_000, 0).UTC()}))
	length := []string{strconv.Itoa(len(body))}
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		id := r.Header.Get("Ce-Subject")
		h["Ce-Id"] = []string{id + "/reserved"}
		h["Ce-Subject"] = []string{id}
		h["Content-Length"] = length
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	}
}

// binaryRequest is the header and body of e as a binary-mode request.
func binaryRequest(b *testing.B, e event.Event) (http.Header, []byte) {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		b.Fatal(err)
	}
	body := new(bytes.Buffer)
	if _, err := body.ReadFrom(req.Body); err != nil {
		b.Fatal(err)
	}
	return req.Header, body.Bytes()
}

// postBench posts the prebuilt claim with its id and subject set to id.
func postBench(b *testing.B, client *http.Client, url string, header http.Header, body []byte, id string) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return
	}
	req.Header = header.Clone()
	req.Header["Ce-Id"] = []string{id}
	req.Header["Ce-Subject"] = []string{id}
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b.Errorf("ingress status %d", resp.StatusCode)
	}
}
