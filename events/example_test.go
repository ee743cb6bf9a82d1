package events_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/surgekit/surge/events"
)

// A stage decodes its input with Decode and builds its reply with a
// constructor; the reply's id derives from the claim id, so a redelivered
// input gets the very same reply.
func Example() {
	at := time.Date(2030, 11, 11, 0, 0, 0, 0, time.UTC)
	in := events.ClaimRequested(events.ClaimRequestedData{
		ClaimID: "double11.7f3a", CampaignID: "double11", UserID: "alice",
		SKU: "phone-x", Qty: 1, RequestedAt: at,
	})
	d, err := events.Decode[events.ClaimRequestedData](in, events.TypeClaimRequested)
	if err != nil {
		fmt.Println(err)
		return
	}
	reply := events.ClaimRejected(events.ClaimRejectedData{
		ClaimID: d.ClaimID, CampaignID: d.CampaignID, UserID: d.UserID, Reason: events.ReasonSoldOut,
	}, at)
	fmt.Println(reply.Type(), reply.ID(), reply.Extensions()[events.PartitionKeyExtension])

	_, err = events.Decode[events.ClaimReservedData](in, events.TypeClaimReserved)
	fmt.Println(errors.Is(err, events.ErrInvalid))
	// Output:
	// dev.surgekit.claim.rejected.v1 double11.7f3a/rejected double11/alice
	// true
}
