package ratelimit

import (
	"testing"
	"time"
)

func TestLocalBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := Rate{PerSec: 2, Burst: 3}
	cases := []struct {
		name string
		at   time.Duration // since t0
		want bool
	}{
		{"burst 1", 0, true},
		{"burst 2", 0, true},
		{"burst 3", 0, true},
		{"empty", 0, false},
		{"still empty at 0.4s", 400 * time.Millisecond, false},
		{"one token at 0.5s", 500 * time.Millisecond, true},
		{"empty again", 500 * time.Millisecond, false},
		{"full after 10s, burst 1", 10 * time.Second, true},
		{"burst 2", 10 * time.Second, true},
		{"burst 3", 10 * time.Second, true},
		{"no more than burst", 10 * time.Second, false},
	}
	l := NewLocal(100)
	for _, tc := range cases {
		if got, _ := l.Allow("k", r, t0.Add(tc.at)); got != tc.want {
			t.Fatalf("%s: Allow = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestLocalWaitUndoHold(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := Rate{PerSec: 4, Burst: 1}
	l := NewLocal(100)
	if ok, _ := l.Allow("k", r, t0); !ok {
		t.Fatal("first Allow refused")
	}
	if ok, wait := l.Allow("k", r, t0); ok || wait != 250*time.Millisecond {
		t.Fatalf("second Allow = %v, %v; want false, 250ms", ok, wait)
	}
	l.Undo("k", r)
	if ok, _ := l.Allow("k", r, t0); !ok {
		t.Fatal("Allow after Undo refused")
	}
	l.Undo("k", r)
	l.Hold("k", r, time.Second, t0)
	if ok, wait := l.Allow("k", r, t0.Add(900*time.Millisecond)); ok || wait != 100*time.Millisecond {
		t.Fatalf("Allow during Hold = %v, %v; want false, 100ms", ok, wait)
	}
	if ok, _ := l.Allow("k", r, t0.Add(time.Second)); !ok {
		t.Fatal("Allow after Hold refused")
	}
}

func TestLocalBoundedAndUnlimited(t *testing.T) {
	l := NewLocal(localShards * 2)
	r := Rate{PerSec: 1, Burst: 1}
	now := time.Unix(1000, 0)
	for i := range 10000 {
		l.Allow(string(rune('a'+i%26))+time.Duration(i).String(), r, now)
	}
	if n := l.Len(); n > localShards*2 {
		t.Fatalf("%d buckets kept; want at most %d", n, localShards*2)
	}
	for range 100 {
		if ok, _ := l.Allow("free", Rate{}, now); !ok {
			t.Fatal("an unlimited rate refused")
		}
	}
}
