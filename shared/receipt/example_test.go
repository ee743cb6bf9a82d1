package receipt_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/surgekit/surge/shared/receipt"
)

func Example() {
	signer, err := receipt.NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	reserved := time.Date(2025, 11, 11, 0, 0, 0, 0, time.UTC)
	token, err := signer.Sign(receipt.Receipt{
		TokenID: "double11.k3x9", OrderNo: receipt.OrderNo("double11", "phone-x", "alice", 1),
		CampaignID: "double11", SKU: "phone-x", UserID: "alice",
		Qty: 1, Seq: 1, FirstSlot: 17, Amount: 99900,
		ReservedAt: reserved, PayBy: reserved.Add(10 * time.Minute),
	})
	if err != nil {
		panic(err)
	}
	r, err := receipt.NewVerifier(signer.Public()).Verify(token)
	fmt.Println(r.OrderNo, r.Amount, r.PayBy.Format(time.Kitchen), err)
	_, err = receipt.NewVerifier(signer.Public()).Verify(token[:40])
	fmt.Println(err != nil)
	// Output:
	// double11:phone-x:alice:1 99900 12:10AM <nil>
	// true
}
