package metrics

import (
	dto "github.com/prometheus/client_model/go"
)

// Value sums, in Registry, the counters (or the histograms' counts) of
// family name whose labels include labels (name, value, …): what this
// process has counted so far, as a test or a dashboard reads it.
func Value(name string, labels ...string) (float64, error) {
	families, err := Registry.Gather()
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			sum += Sum(f, labels...)
		}
	}
	return sum, nil
}

// Sum adds up the counters (or the histograms' counts) of family f whose
// labels include labels (name, value, …).
func Sum(f *dto.MetricFamily, labels ...string) float64 {
	var sum float64
	for _, m := range f.GetMetric() {
		if !labelled(m, labels...) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// labelled reports whether m has every label of labels (name, value, …).
func labelled(m *dto.Metric, labels ...string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}
