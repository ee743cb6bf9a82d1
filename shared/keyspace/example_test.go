package keyspace_test

import (
	"fmt"

	"github.com/surgekit/surge/shared/keyspace"
)

// Every key of one campaign carries the hash tag {c:<id>}, so a Lua script
// touching them runs on one Redis Cluster slot; the claim id tells which.
func Example() {
	keys := keyspace.New("") // "surge"
	id := keyspace.ClaimID("double11", "7f3a")
	campaign, _ := keyspace.CampaignOfClaim(id)
	c := keys.Campaign(campaign)
	fmt.Println(c.Stock("phone-x"))
	fmt.Println(c.Claim(id))
	fmt.Println(keys.User("alice").Pending())
	// Output:
	// surge:{c:double11}:stock:phone-x
	// surge:{c:double11}:claim:double11.7f3a
	// surge:{u:alice}:pending
}
