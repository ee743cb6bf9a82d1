package switches_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/surgekit/surge/shared/switches"
)

// A change is checked against its switch before it is recorded: the scope
// asks for a campaign and a SKU, and the value is of the switch's kind.
func ExampleTarget_Check() {
	soldOut := switches.Target{Name: switches.SoldOut, Campaign: "double11", SKU: "phone-x"}
	v, err := soldOut.Check(json.RawMessage(`true`))
	fmt.Println(string(v), err)

	_, err = switches.Target{Name: switches.SoldOut, Campaign: "double11"}.Check(json.RawMessage(`true`))
	fmt.Println(errors.Is(err, switches.ErrScope))

	_, err = switches.Target{Name: switches.ShedFraction}.Check(json.RawMessage(`1.5`))
	fmt.Println(errors.Is(err, switches.ErrBadValue))
	// Output:
	// true <nil>
	// true
	// true
}
