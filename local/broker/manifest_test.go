package broker

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadTriggersFromInfra(t *testing.T) {
	ts, err := LoadTriggers("../../infra/knative/base")
	if err != nil {
		t.Fatalf("LoadTriggers: %v", err)
	}
	want := map[string]string{
		"prededuct": "dev.surgekit.claim.requested.v1",
		"enqueue":   "dev.surgekit.claim.reserved.v1",
		"settle":    "dev.surgekit.order.queued.v1",
		"reconcile": "dev.knative.sources.ping",
		"alerts":    "dev.surgekit.alert.raised.v1",
	}
	if len(ts) != len(want) {
		t.Fatalf("got %d triggers, want %d", len(ts), len(want))
	}
	for _, tr := range ts {
		if got := tr.Filter["type"]; got != want[tr.Name] {
			t.Errorf("trigger %s type = %q, want %q", tr.Name, got, want[tr.Name])
		}
		checkInfraTrigger(t, tr)
	}
}

// checkInfraTrigger checks a Trigger of the base: its subscriber is the
// Service it is named after (the alerts go to reconcile), with the one
// delivery every Trigger has.
func checkInfraTrigger(t *testing.T, tr Trigger) {
	t.Helper()
	service := tr.Name
	if tr.Name == "alerts" {
		service = "reconcile"
	}
	if tr.Broker != "surge" || tr.Subscriber.Ref == nil || tr.Subscriber.Ref.Name != service || tr.Subscriber.Ref.Kind != "Service" {
		t.Errorf("trigger %s: broker %q subscriber %+v, want surge and Service %s", tr.Name, tr.Broker, tr.Subscriber.Ref, service)
	}
	d := tr.Delivery
	if d.Retry == nil || *d.Retry != 8 || d.BackoffPolicy != "exponential" || d.BackoffDelay != "PT0.2S" || d.Timeout != "PT10S" {
		t.Errorf("trigger %s delivery = %+v, want retry 8, exponential, PT0.2S, PT10S", tr.Name, d)
	}
	dls := d.DeadLetterSink
	if dls == nil || dls.Ref == nil || dls.Ref.Name != "reconcile" || dls.URI != "/dead-letters" {
		t.Errorf("trigger %s deadLetterSink = %+v, want Service reconcile + /dead-letters", tr.Name, dls)
	}
	services := map[string]string{"reconcile": "http://rec/"}
	if service != "reconcile" {
		services[service] = "http://svc"
	}
	r, err := newRoute(tr, services)
	if err != nil {
		t.Fatalf("resolve %s: %v", tr.Name, err)
	}
	if r.deadLetter != "http://rec/dead-letters" || r.attempts != 9 || r.timeout != 10*time.Second {
		t.Errorf("route %s = %+v, want DLS http://rec/dead-letters, 9 attempts, 10s", tr.Name, r)
	}
}

func TestLoadPingSourcesFromInfra(t *testing.T) {
	ps, err := LoadPingSources("../../infra/knative/base")
	if err != nil {
		t.Fatalf("LoadPingSources: %v", err)
	}
	if len(ps) != 2 || ps[0].Name != "reconcile-tick" || ps[0].Schedule != "0 * * * *" || !ps[0].targets("surge") || len(ps[0].Extensions) != 0 {
		t.Errorf("ping sources = %+v, want reconcile-tick hourly into broker surge", ps)
	}
	if s := ps[len(ps)-1]; s.Name != "reconcile-tick-shadow" || s.Extensions["surgeshadow"] != "true" || !s.targets("surge") {
		t.Errorf("ping sources = %+v, want reconcile-tick-shadow with surgeshadow into broker surge", ps)
	}
}

func TestLoadTriggersIgnoresOtherKinds(t *testing.T) {
	dir := t.TempDir()
	manifests := map[string]string{
		"a.yaml": "# comment only\n---\napiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: settle}\n" +
			"--- # next\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n---\n",
		"b.yml":              "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec: {broker: surge, subscriber: {uri: 'http://x'}}\n",
		"kustomization.yaml": "resources: [a.yaml]\n",
		"notes.txt":          "kind: Trigger\n",
		"overlays/x.yaml":    "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: overlay}\nspec: {broker: surge}\n",
	}
	for name, body := range manifests {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := LoadTriggers(dir)
	if err != nil {
		t.Fatalf("LoadTriggers: %v", err)
	}
	if len(ts) != 1 || ts[0].Name != "t" || ts[0].Subscriber.URI != "http://x" {
		t.Errorf("triggers = %+v, want only t", ts)
	}
}

func TestScheduleInterval(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "* * * * *", want: time.Minute},
		{in: "*/5 * * * *", want: 5 * time.Minute},
		{in: "*/1 * * * *", want: time.Minute},
		{in: "0 * * * *", want: time.Hour},
		{in: "5 * * * *", wantErr: true},
		{in: "*/0 * * * *", wantErr: true},
		{in: "*/60 * * * *", wantErr: true},
		{in: "* 1 * * *", wantErr: true},
		{in: "* * * *", wantErr: true},
		{in: "CRON_TZ=UTC * * * * *", wantErr: true},
		{in: "@hourly", wantErr: true},
	}
	for _, tt := range tests {
		got, err := scheduleInterval(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("scheduleInterval(%q) = %v, %v; want %v (error: %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestBackoff(t *testing.T) {
	exp := route{expBackoff: true, delay: 200 * time.Millisecond}
	lin := route{delay: 200 * time.Millisecond}
	tests := []struct {
		r       route
		attempt uint64
		want    time.Duration
	}{
		{exp, 1, 200 * time.Millisecond},
		{exp, 2, 400 * time.Millisecond},
		{exp, 8, 25600 * time.Millisecond},
		{exp, 1000, maxBackoff},
		{lin, 1, 200 * time.Millisecond},
		{lin, 3, 600 * time.Millisecond},
		{lin, 1 << 40, maxBackoff},
		{route{expBackoff: true}, 50, 0},
	}
	for _, tt := range tests {
		if got := tt.r.backoff(tt.attempt); got != tt.want {
			t.Errorf("backoff(exp=%v, %d) = %v, want %v", tt.r.expBackoff, tt.attempt, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for code, want := range map[int]bool{0: true, 400: false, 401: false, 403: false, 404: true, 408: true,
		409: true, 410: false, 413: false, 422: false, 429: true, 500: true, 503: true} {
		if got := (result{status: code}).retryable(); got != want {
			t.Errorf("retryable(%d) = %v, want %v", code, got, want)
		}
	}
}
