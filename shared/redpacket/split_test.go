package redpacket_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/surgekit/surge/shared/redpacket"
)

// For 1,000 seeds over a range of budgets and counts, including the
// tight ones (a cent each, the cap each): the sum is the budget, every
// amount is within 1..cap and at most twice the mean of what remained
// when it was drawn, and the same seed gives the same split.
func TestSplit(t *testing.T) {
	cases := []struct {
		budget  int64
		packets int
		cap     int64
	}{
		{1, 1, 1}, {100, 100, 20000}, {101, 100, 20000}, {10000, 3, 20000}, {1_000_000, 1000, 20000},
		{20_000_000, 1000, 20000}, {19_999_999, 1000, 20000}, {5_000_00, 10000, 200}, {7, 2, 4}, {123457, 17, 10000},
	}
	for _, c := range cases {
		for seed := range uint64(1000) {
			got, err := redpacket.Split(c.budget, c.packets, c.cap, seed)
			if err != nil {
				t.Fatalf("Split(%d, %d, %d, %d): %v", c.budget, c.packets, c.cap, seed, err)
			}
			checkSplit(t, c.budget, c.packets, c.cap, got)
			if again, _ := redpacket.Split(c.budget, c.packets, c.cap, seed); !slices.Equal(got, again) {
				t.Fatalf("Split(%d, %d, %d, %d) differs from itself", c.budget, c.packets, c.cap, seed)
			}
		}
	}
}

func checkSplit(t *testing.T, budget int64, packets int, cap int64, got []int64) {
	t.Helper()
	if len(got) != packets {
		t.Fatalf("%d packets, want %d", len(got), packets)
	}
	left := budget
	for i, a := range got {
		k := int64(packets - i)
		if a < 1 || a > cap || (k > 1 && a > 2*left/k) {
			t.Fatalf("split of %d into %d (cap %d): packet %d is %d with %d left for %d", budget, packets, cap, i, a, left, k)
		}
		left -= a
	}
	if left != 0 {
		t.Fatalf("split of %d into %d sums to %d", budget, packets, budget-left)
	}
}

// Seeds differ in their splits (the draw is random, not fixed).
func TestSplitDependsOnTheSeed(t *testing.T) {
	a, _ := redpacket.Split(1_000_000, 1000, 20000, 1)
	b, _ := redpacket.Split(1_000_000, 1000, 20000, 2)
	if slices.Equal(a, b) {
		t.Error("seeds 1 and 2 split alike")
	}
}

func TestSplitImpossible(t *testing.T) {
	for _, c := range []struct {
		budget  int64
		packets int
		cap     int64
	}{
		{99, 100, 20000}, {0, 1, 1}, {-5, 1, 100}, {100, 0, 100}, {100, -1, 100}, {201, 2, 100}, {100, 1, 0},
	} {
		if _, err := redpacket.Split(c.budget, c.packets, c.cap, 1); !errors.Is(err, redpacket.ErrImpossible) {
			t.Errorf("Split(%d, %d, %d) = %v; want ErrImpossible", c.budget, c.packets, c.cap, err)
		}
	}
}
