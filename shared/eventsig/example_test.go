package eventsig_test

import (
	"errors"
	"fmt"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/eventsig"
)

// Captcha signs what it publishes; prededuct verifies what it gets.
func Example() {
	key, err := eventsig.NewKey([]byte("a secret of at least thirty-two bytes"))
	if err != nil {
		panic(err)
	}
	e := events.ClaimRequested(events.ClaimRequestedData{ClaimID: "sale.1", CampaignID: "sale", UserID: "alice", SKU: "phone", Qty: 1})
	fmt.Println("unsigned:", errors.Is(key.Verify(e), eventsig.ErrUnsigned))
	if err := key.Sign(&e); err != nil {
		panic(err)
	}
	fmt.Println("signed:", key.Verify(e))
	e.SetExtension("partitionkey", "sale/mallory")
	fmt.Println("tampered:", errors.Is(key.Verify(e), eventsig.ErrForged))
	// Output:
	// unsigned: true
	// signed: <nil>
	// tampered: true
}
