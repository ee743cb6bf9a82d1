package cebinary_test

import (
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/cebinary"
)

func Example() {
	e := event.New()
	e.SetID("c1.a")
	e.SetType("surge.claim.requested.v1")
	e.SetSource("/surge/captcha")
	e.SetExtension("partitionkey", "c1/u")
	_ = e.SetData(event.ApplicationJSON, []byte(`{"claim_id":"c1.a"}`))

	h := http.Header{}
	if err := cebinary.SetHeaders(h, &e); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Get("Ce-Id"), h.Get("Ce-Partitionkey"), h.Get("Content-Type"))

	got, err := cebinary.Decode(h, e.Data())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cebinary.IsBinaryV1(h), got.Type(), string(got.Data()))
	// Output:
	// c1.a c1/u application/json
	// true surge.claim.requested.v1 {"claim_id":"c1.a"}
}
