package bigquery

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// TestEveryTableIsIdempotent writes each table's rows through the sink as a streaming run,
// again as a retried bundle, again as a relaunched run and then as a backfill whose rows
// differ, and checks that each key is one row: the backfill's.
func TestEveryTableIsIdempotent(t *testing.T) {
	win := schemas.Pane{WindowStart: t0.Add(-time.Hour), WindowEnd: t0.Add(-time.Hour + time.Minute), PaneTiming: "ON_TIME", IsFinal: true}
	tests := []struct {
		table string
		row   func(v int64) any // v changes a non-key column
		col   string            // that column
	}{
		{schemas.TableEvents, func(v int64) any {
			e := event("e1", "p1")
			e.Quantity = v
			return e
		}, "quantity"},
		{schemas.TableProductMetrics, func(v int64) any {
			return schemas.ProductMetric{Pane: win, ProductID: "p1", Category: "books", Views: v}
		}, "views"},
		{schemas.TableTrendingProducts, func(v int64) any {
			return schemas.TrendingProducts{Pane: win, Ranking: []schemas.RankedProduct{{Rank: 1, ProductID: "p1", Category: "books", Purchases: v}}}
		}, "ranking"},
		{schemas.TableUserSessions, func(v int64) any {
			return schemas.UserSession{Pane: win, UserID: "u1", SessionID: "s1", SessionStart: win.WindowStart, SessionEnd: win.WindowStart, Events: v}
		}, "events"},
		{schemas.TableFraudAlerts, func(v int64) any {
			return schemas.FraudAlert{AlertID: "a1", UserID: "u1", Rule: "velocity", DetectedAt: t0, EvidenceStart: t0, EvidenceEnd: t0,
				Purchases: []schemas.AlertPurchase{{EventID: "e1", EventTime: t0, AmountUSD: dec("1")}}, Details: string(rune('a' + v))}
		}, "details"},
		{schemas.TableDeadLetters, func(v int64) any {
			return schemas.DeadLetter{Step: "decode", Reason: "invalid_json", Error: "bad", Payload: []byte("x"), MessageID: "m1",
				PublishTime: t0, Time: t0.Add(time.Duration(v) * time.Second)}.Row()
		}, "timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.table, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, tc.table, DefaultPrimaryKey(tc.table)...)
			run := func(v int64, start time.Time, backfill bool, bundles int) {
				t.Helper()
				cfg := testConfig(srv, tc.table)
				cfg.CDC, cfg.RunStart, cfg.RunSequence, cfg.Backfill, cfg.RunID = true, start, start.UnixMicro(), backfill, "run"
				var bs [][]any
				for range bundles {
					bs = append(bs, []any{tc.row(v)})
				}
				dead, err := writeBundles(t, cfg, bs...)
				if err != nil || len(dead) > 0 {
					t.Fatalf("writing: %v, dead letters %v", err, letters(dead))
				}
			}
			run(1, t0.Add(-2*time.Hour), false, 2) // a streaming run, its bundle retried
			first := srv.Rows(tc.table)
			if len(first) != 1 {
				t.Fatalf("after a retried bundle: %d rows, want 1", len(first))
			}
			run(1, t0, false, 1) // relaunched: the same row again
			if diff := cmp.Diff(first, srv.Rows(tc.table)); diff != "" {
				t.Errorf("a relaunch changed the table (-before +after):\n%s", diff)
			}
			run(2, t0.Add(time.Hour), true, 1)
			backfilled := srv.Rows(tc.table)
			if len(backfilled) != 1 || cmp.Equal(backfilled[0][tc.col], first[0][tc.col]) {
				t.Fatalf("after the backfill: %v, want one row with a new %s", backfilled, tc.col)
			}
			run(2, t0.Add(2*time.Hour), true, 1) // the backfill again
			// A later streaming run never replaces a backfill's row: class 2 outranks class 1
			// (tables without window_end) and class 0 (its window ended before the run).
			run(3, t0.Add(3*time.Hour), false, 1)
			if diff := cmp.Diff(backfilled, srv.Rows(tc.table)); diff != "" {
				t.Errorf("a second backfill and a later streaming run changed the table (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMergedSessionDeletesWhatItSupersedes: a user_sessions row that supersedes session ids
// deletes them, whatever pane their rows had and whether the delete lands first.
func TestMergedSessionDeletesWhatItSupersedes(t *testing.T) {
	win := schemas.Pane{WindowStart: t0, WindowEnd: t0.Add(time.Hour), PaneTiming: "LATE"}
	session := func(id string, pane int64, supersedes ...string) any {
		s := schemas.UserSession{Pane: win, UserID: "u1", SessionID: id, SessionStart: t0, SessionEnd: t0}
		s.PaneIndex = pane
		for _, id := range supersedes {
			s.Merged = true
			s.Supersedes = append(s.Supersedes, schemas.SessionRef{SessionID: id})
		}
		return s
	}
	tests := []struct {
		name    string
		bundles [][]any
		want    []string
	}{
		{"merge after the parts", [][]any{{session("a", 0), session("b", 5)}, {session("m", 1, "a", "b")}}, []string{"m"}},
		{"merge before the parts", [][]any{{session("m", 1, "a", "b")}, {session("a", 0), session("b", 5)}}, []string{"m"}},
		{"a session superseding itself stays", [][]any{{session("a", 0)}, {session("a", 1, "a")}}, []string{"a"}},
		{"others are untouched", [][]any{{session("c", 0), session("m", 1, "a")}}, []string{"c", "m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, schemas.TableUserSessions, DefaultPrimaryKey(schemas.TableUserSessions)...)
			cfg := testConfig(srv, schemas.TableUserSessions)
			cfg.CDC, cfg.RunStart, cfg.RunSequence = true, t0.Add(-time.Hour), 1
			if dead, err := writeBundles(t, cfg, tc.bundles...); err != nil || len(dead) > 0 {
				t.Fatalf("writing: %v, dead letters %v", err, letters(dead))
			}
			var got []string
			for _, r := range srv.Rows(schemas.TableUserSessions) {
				got = append(got, r["session_id"].(string))
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("session ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLayouts(t *testing.T) {
	var tables []string
	for _, l := range Layouts() {
		if err := l.check(); err != nil {
			t.Error(err)
		}
		tables = append(tables, l.Table)
	}
	want := []string{schemas.TableEvents, schemas.TableProductMetrics, schemas.TableTrendingProducts,
		schemas.TableUserSessions, schemas.TableFraudAlerts, schemas.TableDeadLetters}
	if diff := cmp.Diff(want, tables); diff != "" {
		t.Errorf("tables with a layout (-want +got):\n%s", diff)
	}
	bad := Layout{Table: schemas.TableEvents, PrimaryKey: []string{"nope"}, MaxStaleness: time.Minute}
	if bad.check() == nil {
		t.Error("a layout naming a missing column passed check")
	}
}

func TestDeadLetterIDIgnoresTimeAndRun(t *testing.T) {
	a := schemas.DeadLetter{Step: "decode", Reason: "r", MessageID: "m", Time: t0}.Row()
	b := schemas.DeadLetter{Step: "decode", Reason: "r", MessageID: "m", Time: t0.Add(time.Hour), Payload: []byte("other")}.Row()
	b.RunID = "backfill-1"
	if DeadLetterID(a) != DeadLetterID(b) {
		t.Error("the same message, step and reason got two keys")
	}
	for _, c := range []schemas.DeadLetterRow{
		schemas.DeadLetter{Step: "enrich", Reason: "r", MessageID: "m"}.Row(),
		schemas.DeadLetter{Step: "decode", Reason: "s", MessageID: "m"}.Row(),
		schemas.DeadLetter{Step: "decode", Reason: "r", MessageID: "n"}.Row(),
	} {
		if DeadLetterID(c) == DeadLetterID(a) {
			t.Errorf("%+v shares the key of %+v", c, a)
		}
	}
}
