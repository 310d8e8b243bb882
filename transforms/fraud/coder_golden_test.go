package fraud

import (
	"testing"

	"github.com/tributary-dev/tributary/internal/codertest"
	"github.com/tributary-dev/tributary/schemas"
)

// TestCoderGolden pins the bytes of the detector's state (the Pending bag and the History
// value): an update in place decodes the running job's state with the new coders.
func TestCoderGolden(t *testing.T) {
	p1 := purchase{At: 1_793_000_000_000_000_000, EventID: "e1", AmountUSD: 1_350_000, HasUSD: true}
	p2 := purchase{At: 1_793_000_060_000_000_000, EventID: "e2", AmountUSD: 2_000_000, HasUSD: true}
	codertest.Check(t, codertest.Case[purchase]{
		Name:   "fraud.purchase",
		Value:  p1,
		Encode: encodePurchase,
		Decode: decodePurchase,
	})
	sum, err := schemas.ParseNumeric("123456789012345678901.25")
	if err != nil {
		t.Fatal(err)
	}
	codertest.Check(t, codertest.Case[history]{
		Name: "fraud.history",
		Value: history{Evaluated: true, Cursor: p2, Recent: []purchase{p1, p2}, Disarmed: true, USDCount: 2,
			USDSum: sum, BaselineStart: 1_792_999_000_000_000_000, Deferred: []purchase{p2}},
		Encode: encodeHistory,
		Decode: decodeHistory,
	})
}
