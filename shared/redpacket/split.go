// Package redpacket splits a rain's money budget into packets, with the
// WeChat red-packet algorithm of seed 001 (红包算法): each round takes a
// random amount between a floor (what this packet must take so that the
// packets after it, at the cap each, can still take the rest) and a
// ceiling (the cap, what leaves a cent for every packet after it, and
// twice the mean of what remains: amounts never far apart); the last
// packet takes the rest. A split is a pure function of its inputs and a
// seed, so the seed recorded with a campaign reproduces it exactly.
package redpacket

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// ErrImpossible: no split of the budget into the packets fits the bounds.
var ErrImpossible = errors.New("budget cannot be split so")

// Split divides budget cents into exactly packets amounts, each at least
// 1 cent and at most maxPacket cents, summing to budget; the same
// arguments always give the same amounts. It fails with ErrImpossible
// unless packets ≤ budget ≤ packets × maxPacket.
func Split(budget int64, packets int, maxPacket int64, seed uint64) ([]int64, error) {
	if err := Check(budget, packets, maxPacket); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]int64, packets)
	left := budget
	for i := range out {
		out[i] = next(rng, left, int64(packets-i), maxPacket)
		left -= out[i]
	}
	return out, nil
}

// Check says whether budget splits into packets amounts of 1..maxPacket
// cents: it does exactly when packets ≤ budget ≤ packets × maxPacket.
func Check(budget int64, packets int, maxPacket int64) error {
	switch {
	case packets < 1:
		return fmt.Errorf("%w: %d packets, want at least 1", ErrImpossible, packets)
	case maxPacket < 1:
		return fmt.Errorf("%w: a packet of at most %d cents", ErrImpossible, maxPacket)
	case budget < int64(packets):
		return fmt.Errorf("%w: %d cents cannot give %d packets a cent each", ErrImpossible, budget, packets)
	case budget/int64(packets) > maxPacket || (budget/int64(packets) == maxPacket && budget%int64(packets) != 0):
		return fmt.Errorf("%w: %d cents in %d packets exceed %d cents a packet", ErrImpossible, budget, packets, maxPacket)
	}
	return nil
}

// next is one round: the amount of the next packet when left cents remain
// for k packets. The floor is ≤ left/k ≤ twice the mean, so the range is
// never empty.
func next(rng *rand.Rand, left, k, maxPacket int64) int64 {
	if k == 1 {
		return left
	}
	floor := max(1, left-(k-1)*maxPacket)
	ceiling := min(maxPacket, left-(k-1), 2*left/k)
	// the seed's draw: a random amount up to the ceiling, raised to the
	// floor when below it
	return max(floor, 1+rng.Int64N(ceiling))
}
