package broker

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

func TestStatsShowBacklogAndBusyWorkers(t *testing.T) {
	release := make(chan struct{})
	sub := newSink(t, func(_ int, _ *event.Event, w http.ResponseWriter) {
		<-release // held until the test has read the backlog
		w.WriteHeader(http.StatusAccepted)
	})
	dir := writeManifests(t, testTrigger{name: "slow", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL}, Workers: 2})
	for i := range 5 {
		post(t, url, newEvent("s-"+string(rune('0'+i)), "test.slow.v1"))
	}
	var st TriggerStats
	waitFor(t, 5*time.Second, "two busy workers", func() bool {
		st = triggerStats(t, url, "slow")
		return st.Busy == 2
	})
	if st.Workers != 2 || st.Pending+uint64(st.AckPending) != 5 || st.AckPending < 2 {
		t.Errorf("held: %+v; want 2 workers, pending + ack pending = 5, at least 2 ack pending", st)
	}
	close(release)
	waitFor(t, 5*time.Second, "every event delivered and acknowledged", func() bool {
		st = triggerStats(t, url, "slow")
		return st.Delivered == 5 && st.Busy == 0 && st.Pending == 0 && st.AckPending == 0
	})
}

func triggerStats(t *testing.T, url, trigger string) TriggerStats {
	t.Helper()
	resp, err := http.Get(url + "/debug/triggers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all []TriggerStats
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatalf("GET /debug/triggers: status %d: %v", resp.StatusCode, err)
	}
	for _, s := range all {
		if s.Trigger == trigger {
			return s
		}
	}
	t.Fatalf("no trigger %q in %+v", trigger, all)
	return TriggerStats{}
}
