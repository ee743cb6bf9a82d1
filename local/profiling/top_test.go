package profiling_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/surgekit/surge/local/profiling"
)

// handMade is a CPU profile of three functions: c inlined into b, a calling
// itself, and b alone.
func handMade() *profile.Profile {
	fa := &profile.Function{ID: 1, Name: "a"}
	fb := &profile.Function{ID: 2, Name: "b"}
	fc := &profile.Function{ID: 3, Name: "c"}
	la := &profile.Location{ID: 1, Address: 0x10, Line: []profile.Line{{Function: fa}}}
	lb := &profile.Location{ID: 2, Address: 0x20, Line: []profile.Line{{Function: fb}}}
	lcb := &profile.Location{ID: 3, Address: 0x30, Line: []profile.Line{{Function: fc}, {Function: fb}}}
	cpu := func(ms int64, locs ...*profile.Location) *profile.Sample {
		return &profile.Sample{Location: locs, Value: []int64{1, ms * int64(time.Millisecond)}}
	}
	return &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     int64(10 * time.Millisecond),
		Sample:     []*profile.Sample{cpu(10, lcb, la), cpu(5, la, lb, la), cpu(20, lb)},
		Location:   []*profile.Location{la, lb, lcb},
		Function:   []*profile.Function{fa, fb, fc},
	}
}

func TestTop(t *testing.T) {
	ms := time.Millisecond
	want := []profiling.Entry{
		{Func: "b", Flat: 20 * ms, Cum: 35 * ms, FlatShare: 20.0 / 35, CumShare: 1},
		{Func: "c", Flat: 10 * ms, Cum: 10 * ms, FlatShare: 10.0 / 35, CumShare: 10.0 / 35},
		{Func: "a", Flat: 5 * ms, Cum: 15 * ms, FlatShare: 5.0 / 35, CumShare: 15.0 / 35},
	}
	tests := []struct {
		n    int
		want []profiling.Entry
	}{
		{0, want},
		{2, want[:2]},
		{5, want},
	}
	for _, tt := range tests {
		if got := profiling.Top(handMade(), tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Top(p, %d) = %+v; want %+v", tt.n, got, tt.want)
		}
	}
	if got := profiling.Total(handMade()); got != 35*ms {
		t.Errorf("Total = %v; want 35ms", got)
	}
}

func TestPreemptedTimeGoesToTheInterruptedFunction(t *testing.T) {
	p := handMade()
	preempt := &profile.Function{ID: 4, Name: "runtime.asyncPreempt"}
	lp := &profile.Location{ID: 4, Address: 0x40, Line: []profile.Line{{Function: preempt}}}
	p.Function, p.Location = append(p.Function, preempt), append(p.Location, lp)
	p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{lp, p.Location[0]}, Value: []int64{1, int64(40 * time.Millisecond)}})
	top := profiling.Top(p, 1)
	if len(top) != 1 || top[0].Func != "a" || top[0].Flat != 45*time.Millisecond {
		t.Errorf("Top(p, 1) = %+v; want a with 45ms flat (5ms its own, 40ms preempted in it)", top)
	}
}

func TestTopWithoutCPU(t *testing.T) {
	p := handMade()
	p.SampleType[1] = &profile.ValueType{Type: "alloc_space", Unit: "bytes"}
	if got := profiling.Top(p, 3); got != nil {
		t.Errorf("Top of a heap profile = %+v; want nil", got)
	}
	if got := profiling.Total(nil); got != 0 {
		t.Errorf("Total(nil) = %v; want 0", got)
	}
}

func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pb.gz")
	if err := profiling.Write(path, handMade()); err != nil {
		t.Fatalf("Write: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("parse what Write saved: %v", err)
	}
	if got, want := profiling.Top(p, 0), profiling.Top(handMade(), 0); !slices.Equal(got, want) {
		t.Errorf("Top of the saved profile = %+v; want %+v", got, want)
	}
}
