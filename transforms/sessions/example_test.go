package sessions_test

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/sessions"
)

// UserSessions splits a user's events wherever two are a gap or more apart: with a 30-minute
// gap, u1's events at 12:00, 12:10 and 13:00 make two sessions.
func ExampleUserSessions() {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ev := func(id, typ, user string, at time.Duration, usd int64) schemas.Event {
		return schemas.Event{EventID: id, EventType: typ, EventTime: t0.Add(at), UserID: user, ProductID: "p1",
			Amount: schemas.Decimal(usd * schemas.DecimalScale), Currency: "USD", AmountUSD: schemas.Decimal(usd * schemas.DecimalScale)}
	}
	evs := []schemas.Event{
		ev("e1", schemas.PageView, "u1", 0, 0),
		ev("e2", schemas.Purchase, "u1", 10*time.Minute, 30),
		ev("e3", schemas.PageView, "u1", time.Hour, 0),
		ev("e4", schemas.PageView, "u2", 5*time.Minute, 0),
	}

	p, s := beam.NewPipelineWithRoot()
	rows := sessions.UserSessions(s, beamtest.Events(s, evs), sessions.Config{Gap: 30 * time.Minute})
	beamtest.Collect(s, "ExampleUserSessions", rows)
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}
	var lines []string
	for _, r := range beamtest.Collected[schemas.UserSession]("ExampleUserSessions") {
		lines = append(lines, fmt.Sprintf("%s %s-%s events=%d revenue=%s converted=%t %s pane=%d final=%t",
			r.UserID, r.SessionStart.Format("15:04"), r.SessionEnd.Format("15:04"), r.Events, r.RevenueUSD,
			r.Converted, r.PaneTiming, r.PaneIndex, r.IsFinal))
	}
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// u1 12:00-12:10 events=2 revenue=30 converted=true ON_TIME pane=0 final=true
	// u1 13:00-13:00 events=1 revenue=0 converted=false ON_TIME pane=0 final=true
	// u2 12:05-12:05 events=1 revenue=0 converted=false ON_TIME pane=0 final=true
}
