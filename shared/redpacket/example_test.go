package redpacket_test

import (
	"fmt"

	"github.com/surgekit/surge/shared/redpacket"
)

// A rain of ¥100.00 in 10 packets of at most ¥20.00, from the seed kept
// with the campaign: the split is the same every time.
func ExampleSplit() {
	amounts, err := redpacket.Split(10000, 10, 2000, 42)
	if err != nil {
		panic(err)
	}
	var sum int64
	for _, a := range amounts {
		sum += a
	}
	again, _ := redpacket.Split(10000, 10, 2000, 42)
	fmt.Println(len(amounts), sum, fmt.Sprint(amounts) == fmt.Sprint(again))
	// Output: 10 10000 true
}
