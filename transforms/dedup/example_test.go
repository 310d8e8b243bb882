package dedup_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/dedup"
)

// Dedup keeps the first copy of each event id seen within the horizon: Pub/Sub redelivered
// e1 and a producer retried e2.
func ExampleDedup() {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var evs []schemas.Event
	for _, id := range []string{"e1", "e2", "e1", "e3", "e2", "e1"} {
		evs = append(evs, schemas.Event{EventID: id, EventType: schemas.PageView, EventTime: at, UserID: "u1"})
	}

	p, s := beam.NewPipelineWithRoot()
	unique := dedup.Dedup(s, beamtest.Events(s, evs), dedup.Config{Horizon: 10 * time.Minute})
	beamtest.Collect(s, "ExampleDedup", unique)
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}
	var ids []string
	for _, e := range beamtest.Collected[schemas.Event]("ExampleDedup") {
		ids = append(ids, e.EventID)
	}
	slices.Sort(ids)
	fmt.Println(ids)
	// Output: [e1 e2 e3]
}
