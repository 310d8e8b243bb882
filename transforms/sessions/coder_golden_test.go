package sessions

import (
	"testing"

	"github.com/tributary-dev/tributary/internal/codertest"
	"github.com/tributary-dev/tributary/schemas"
)

// TestCoderGolden pins the bytes of the sessionizer's state (the Incoming bag and the Sessions
// value): an update in place decodes the running job's state with the new coders.
func TestCoderGolden(t *testing.T) {
	codertest.Check(t, codertest.Case[eventRecord]{
		Name:   "sessions.eventRecord",
		Value:  eventRecord{At: 1_793_000_000_000_000_000, ID: eventID("e1"), Kind: kindPurchase, ProductID: "p1", AmountUSD: 1_350_000},
		Encode: encodeEventRecord,
		Decode: decodeEventRecord,
	})
	revenue, err := schemas.ParseNumeric("123456789012345678901.25")
	if err != nil {
		t.Fatal(err)
	}
	codertest.Check(t, codertest.Case[userState]{
		Name: "sessions.userState",
		Value: userState{Horizon: 1_793_000_600_000_000_000, Sessions: []session{{
			Start: 1_793_000_000_000_000_000, Last: 1_793_000_300_000_000_000, Events: 4, PageViews: 1, Carts: 1, Purchases: 2,
			RevenueUSD: revenue, FirstAt: 1_793_000_000_000_000_000, LastAt: 1_793_000_300_000_000_000,
			FirstID: eventID("e1"), LastID: eventID("e4"), FirstProduct: "p1", LastProduct: "p2",
			IDs: []uint64{eventID("e1"), eventID("e4")}, Version: 3, Dirty: true, Emitted: []int64{1_793_000_000_000_000_000},
		}}},
		Encode: encodeUserState,
		Decode: decodeUserState,
	})
}
