// Package scrape reads a Prometheus /metrics page the way a test needs it:
// one value per series, looked up by name and labels.
package scrape

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples are the series of one scrape, keyed by Key. A histogram or a
// summary gives its _count and _sum.
type Samples map[string]float64

// Key names a series: its name, then its labels sorted as name="value".
func Key(name string, labels ...string) string {
	if len(labels)%2 != 0 {
		panic("scrape.Key: labels come in name, value pairs")
	}
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i < len(labels); i += 2 {
		pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// Value is the series of name with exactly these labels (name, value, …),
// and whether the scrape had it.
func (s Samples) Value(name string, labels ...string) (float64, bool) {
	v, ok := s[Key(name, labels...)]
	return v, ok
}

// Get scrapes url (a /metrics page) and fails t unless it answers 200 in
// the Prometheus text format.
func Get(t testing.TB, url string) Samples {
	t.Helper()
	out := Samples{}
	for name, f := range Families(t, url) {
		for _, m := range f.GetMetric() {
			add(out, name, m)
		}
	}
	return out
}

// Families scrapes url as Get does and returns the page's families by
// name, for a test that reads them whole (summing over labels, say).
func Families(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return families
}

// client bounds a scrape, so a process that stopped answering fails the
// test instead of hanging it.
var client = &http.Client{Timeout: 10 * time.Second}

func add(out Samples, name string, m *dto.Metric) {
	var labels []string
	for _, l := range m.GetLabel() {
		labels = append(labels, l.GetName(), l.GetValue())
	}
	switch {
	case m.Counter != nil:
		out[Key(name, labels...)] = m.Counter.GetValue()
	case m.Gauge != nil:
		out[Key(name, labels...)] = m.Gauge.GetValue()
	case m.Untyped != nil:
		out[Key(name, labels...)] = m.Untyped.GetValue()
	case m.Histogram != nil:
		out[Key(name+"_count", labels...)] = float64(m.Histogram.GetSampleCount())
		out[Key(name+"_sum", labels...)] = m.Histogram.GetSampleSum()
	case m.Summary != nil:
		out[Key(name+"_count", labels...)] = float64(m.Summary.GetSampleCount())
		out[Key(name+"_sum", labels...)] = m.Summary.GetSampleSum()
	}
}
