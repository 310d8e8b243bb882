package bigquery

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc/codes"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
	"github.com/tributary-dev/tributary/transforms/deadletter"
)

func TestWriteRowsArriveAsTheSchemaSays(t *testing.T) {
	at := t0.Truncate(time.Microsecond) // TIMESTAMP keeps microseconds
	full := schemas.Event{
		EventID: "e1", EventType: schemas.Purchase, EventTime: t0, UserID: "u1", SessionHint: "s1", ProductID: "p1",
		Quantity: 2, Amount: dec("19.99"), Currency: "EUR", Device: schemas.Device{OS: "ios", Country: "DE"},
		Attributes: map[string]string{"b": "2", "a": "1"}, SchemaVersion: 1, Extra: json.RawMessage(`{"z":1,"coupon":"X"}`),
		MessageID: "m1", PublishTime: t0.Add(time.Second), Category: "books", ListPrice: dec("9.5"), AmountUSD: dec("21.000000001"),
	}
	tests := []struct {
		name  string
		table string
		rows  []any
		want  []bqtest.Row
	}{
		{
			name:  "events: every column, typed",
			table: schemas.TableEvents,
			rows:  []any{full},
			want: []bqtest.Row{{
				"event_id": "e1", "event_type": "purchase", "event_time": at, "user_id": "u1", "session_hint": "s1",
				"product_id": "p1", "quantity": int64(2), "amount": "19.99", "currency": "EUR",
				"device": bqtest.Row{"os": "ios", "country": "DE"}, "attributes": `{"a":"1","b":"2"}`,
				"schema_version": int64(1), "extra": `{"coupon":"X","z":1}`, "message_id": "m1",
				"publish_time": at.Add(time.Second), "category": "books", "list_price": "9.5", "amount_usd": "21.000000001",
			}},
		},
		{
			name:  "events: absent optional columns are NULL",
			table: schemas.TableEvents,
			rows:  []any{schemas.Event{EventID: "e2", EventType: schemas.PageView, EventTime: t0, UserID: "u2", Currency: "USD", SchemaVersion: 1}},
			want: []bqtest.Row{{
				"event_id": "e2", "event_type": "page_view", "event_time": at, "user_id": "u2", "quantity": int64(0),
				"currency": "USD", "device": bqtest.Row{}, "schema_version": int64(1),
			}},
		},
		{
			name:  "product_metrics: window, pane and NUMERIC sums",
			table: schemas.TableProductMetrics,
			rows: []any{schemas.ProductMetric{
				Pane:      schemas.Pane{WindowStart: t0.Truncate(time.Minute), WindowEnd: t0.Truncate(time.Minute).Add(time.Minute), PaneIndex: 3, PaneTiming: schemas.PaneLate, IsFinal: true},
				ProductID: "p1", Category: "books", Views: 4, Carts: 3, Purchases: 2, Refunds: 1,
				RevenueUSD: schemas.NumericOf(dec("123456789.987654321")), DistinctUsers: 5,
			}},
			want: []bqtest.Row{{
				"window_start": t0.Truncate(time.Minute), "window_end": t0.Truncate(time.Minute).Add(time.Minute),
				"pane_index": int64(3), "pane_timing": "LATE", "is_final": true, "product_id": "p1", "category": "books",
				"views": int64(4), "carts": int64(3), "purchases": int64(2), "refunds": int64(1),
				"revenue_usd": "123456789.987654321", "refunds_usd": "0", "distinct_users": int64(5),
			}},
		},
		{
			name:  "dead_letters: repeated records, bytes that are not UTF-8",
			table: schemas.TableDeadLetters,
			rows: []any{
				schemas.DeadLetter{Step: "decode", Reason: "invalid_json", Error: "bad", Payload: []byte{0xff, 0x00},
					Attributes: map[string]string{"k2": "v2", "k1": "v1"}, MessageID: "m9", PublishTime: t0, Time: t0}.Row(),
				schemas.DeadLetter{Step: "decode", Reason: "too_large", Error: "big", Payload: []byte("{}"), Time: t0}.Row(),
			},
			want: []bqtest.Row{
				{
					"timestamp": at, "payloadBytes": []byte{0xff, 0x00},
					"attributes":   []any{bqtest.Row{"key": "k1", "value": "v1"}, bqtest.Row{"key": "k2", "value": "v2"}},
					"errorMessage": "bad", "step": "decode", "reason": "invalid_json", "message_id": "m9", "publish_time": at,
					"payload_size": int64(2), "dead_letter_id": "2488b8c775aee51f9ca24b2a7ebf85de",
				},
				{
					"timestamp": at, "payloadString": "{}", "attributes": []any{},
					"errorMessage": "big", "step": "decode", "reason": "too_large", "payload_size": int64(2),
					"dead_letter_id": "8f64b449ec03c0864b0ffa8a8a3463e0", // no message id: the payload's hash
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, tc.table)
			dead, err := writeBundles(t, testConfig(srv, tc.table), tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			if len(dead) > 0 {
				t.Errorf("dead letters: %v", letters(dead))
			}
			if diff := cmp.Diff(tc.want, srv.Rows(tc.table)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteBatchesAndBoundsAppends(t *testing.T) {
	tests := []struct {
		name        string
		rows        int
		cfg         Config
		wantAppends int
	}{
		{"by rows", 25, Config{MaxBatchRows: 10, MaxInFlight: 2}, 3},
		{"by bytes", 12, Config{MaxBatchRows: 100, MaxBatchBytes: 3*eventSize(t) + 1, MaxInFlight: 1}, 4},
		{"one append per bundle when it fits", 25, Config{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, schemas.TableEvents)
			cfg := testConfig(srv, schemas.TableEvents)
			cfg.MaxBatchRows, cfg.MaxBatchBytes, cfg.MaxInFlight = tc.cfg.MaxBatchRows, tc.cfg.MaxBatchBytes, tc.cfg.MaxInFlight
			if _, err := writeBundles(t, cfg, events(tc.rows)); err != nil {
				t.Fatal(err)
			}
			if got := len(srv.Rows(schemas.TableEvents)); got != tc.rows {
				t.Errorf("rows = %d, want %d", got, tc.rows)
			}
			if got := srv.Stats().Appends; got != tc.wantAppends {
				t.Errorf("appends = %d, want %d", got, tc.wantAppends)
			}
		})
	}
}

func TestWriteRetriesTransientErrors(t *testing.T) {
	tests := []struct {
		name       string
		fail       codes.Code
		times      int
		breaks     bool // end the connection instead of answering with an error
		batch      int  // rows per append, of 10
		maxRetries int
		wantErr    string // empty: the rows land
	}{
		{name: "a broken connection is reopened", fail: codes.Unavailable, times: 2, breaks: true, batch: 3, maxRetries: 3},
		{name: "unavailable twice", fail: codes.Unavailable, times: 2, batch: 10, maxRetries: 3},
		{name: "appends in flight fail and are retried", fail: codes.Unavailable, times: 5, batch: 2, maxRetries: 3},
		{name: "quota", fail: codes.ResourceExhausted, times: 1, batch: 10, maxRetries: 3},
		{name: "internal", fail: codes.Internal, times: 1, batch: 10, maxRetries: 3},
		{name: "aborted", fail: codes.Aborted, times: 3, batch: 10, maxRetries: 3},
		{name: "retries are bounded", fail: codes.Unavailable, times: 5, batch: 10, maxRetries: 2, wantErr: "failed after 2 retries"},
		{name: "a permanent error is not retried", fail: codes.PermissionDenied, times: 1, batch: 10, maxRetries: 3, wantErr: "failed after 0 retries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, schemas.TableEvents)
			cfg := testConfig(srv, schemas.TableEvents)
			cfg.MaxRetries, cfg.MaxBatchRows = tc.maxRetries, tc.batch
			if tc.breaks {
				srv.BreakNext(tc.fail, tc.times)
			} else {
				srv.FailNext(tc.fail, tc.times)
			}
			dead, err := writeBundles(t, cfg, events(10))
			if len(dead) > 0 {
				t.Errorf("dead letters: %v", letters(dead))
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.fail.String()) {
					t.Fatalf("error = %v, want one containing %q and %s", err, tc.wantErr, tc.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(srv.Rows(schemas.TableEvents)); got != 10 {
				t.Errorf("rows = %d, want 10 (each once)", got)
			}
			if got := srv.Stats().Connections; tc.breaks && got < 2 {
				t.Errorf("connections = %d, want a reconnection", got)
			}
		})
	}
}

func TestWriteRefusedRowsBecomeDeadLetters(t *testing.T) {
	bad := func(r bqtest.Row) bool { return r["product_id"] == "bad" }
	rows := []any{event("e1", "p1"), event("e2", "bad"), event("e3", "p2"), event("e4", "bad"), event("e5", "p3")}
	type unknownColumn struct {
		EventID string `json:"event_id"`
		Color   string `json:"color"`
	}
	tests := []struct {
		name     string
		rows     []any
		batch    int
		reject   func(bqtest.Row) bool
		failNext codes.Code
		wantIDs  []string
		wantDead []letter
	}{
		{
			name: "row errors dead-letter those rows and the rest land", rows: rows, batch: 100, reject: bad,
			wantIDs: []string{"e1", "e3", "e5"},
			wantDead: []letter{
				{"bigquery.events", ReasonRowError, jsonOf(t, rows[1])},
				{"bigquery.events", ReasonRowError, jsonOf(t, rows[3])},
			},
		},
		{
			name: "across batches", rows: rows, batch: 2, reject: bad,
			wantIDs: []string{"e1", "e3", "e5"},
			wantDead: []letter{
				{"bigquery.events", ReasonRowError, jsonOf(t, rows[1])},
				{"bigquery.events", ReasonRowError, jsonOf(t, rows[3])},
			},
		},
		{
			name: "an append refused as a whole dead-letters its rows", rows: rows, batch: 3, failNext: codes.InvalidArgument,
			wantIDs: []string{"e4", "e5"},
			wantDead: []letter{
				{"bigquery.events", ReasonRejected, jsonOf(t, rows[0])},
				{"bigquery.events", ReasonRejected, jsonOf(t, rows[1])},
				{"bigquery.events", ReasonRejected, jsonOf(t, rows[2])},
			},
		},
		{
			name: "a row that does not fit the schema is never sent", batch: 100,
			rows:    []any{event("e1", "p1"), unknownColumn{EventID: "x", Color: "red"}},
			wantIDs: []string{"e1"},
			wantDead: []letter{
				{"bigquery.events", ReasonEncode, `{"event_id":"x","color":"red"}`},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, schemas.TableEvents)
			srv.RejectRows(schemas.TableEvents, tc.reject)
			if tc.failNext != codes.OK {
				srv.FailNext(tc.failNext, 1)
			}
			cfg := testConfig(srv, schemas.TableEvents)
			cfg.MaxBatchRows = tc.batch
			dead, err := writeBundles(t, cfg, tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range srv.Rows(schemas.TableEvents) {
				ids = append(ids, r["event_id"].(string))
			}
			// Rows left after row errors are appended again, after later batches.
			if diff := cmp.Diff(tc.wantIDs, ids, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("rows written (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantDead, letters(dead)); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteUpserts(t *testing.T) {
	pk := []string{"window_start", "product_id"}
	// metric's window is 12:00–12:01 on t0's day.
	open, ended := t0.Add(-time.Hour), t0.Add(time.Hour) // run starts: window still open, window over
	type bundle struct {
		run   int64     // RunSequence of the pipeline that writes it
		start time.Time // its RunStart
		rows  []any
	}
	tests := []struct {
		name    string
		cdc     bool
		bundles []bundle
		want    []int64 // views of the rows in the table
	}{
		{
			name:    "a later pane replaces the earlier one",
			cdc:     true,
			bundles: []bundle{{1, open, []any{metric("p1", 0, 1), metric("p2", 0, 7)}}, {1, open, []any{metric("p1", 1, 3)}}},
			want:    []int64{3, 7},
		},
		{
			name:    "an earlier pane arriving late does not replace a later one",
			cdc:     true,
			bundles: []bundle{{1, open, []any{metric("p1", 2, 5)}}, {1, open, []any{metric("p1", 1, 3)}}},
			want:    []int64{5},
		},
		{
			name:    "a retried bundle leaves one row",
			cdc:     true,
			bundles: []bundle{{1, open, []any{metric("p1", 0, 1)}}, {1, open, []any{metric("p1", 0, 1)}}},
			want:    []int64{1},
		},
		{
			name: "a later run replaces every pane of a window still open when it started",
			cdc:  true,
			bundles: []bundle{
				{1, open, []any{metric("p1", 3, 5)}},
				{2, open, []any{metric("p1", 0, 9)}},
				{1, open, []any{metric("p1", 4, 6)}}, // the old run's late pane
			},
			want: []int64{9},
		},
		{
			name: "a relaunched job never replaces an earlier run's row of a window that ended before it started",
			cdc:  true,
			bundles: []bundle{
				{1, open, []any{metric("p1", 3, 5)}},
				{2, ended, []any{metric("p1", 0, 1), metric("p1", 1, 2)}}, // only the late and redelivered events
			},
			want: []int64{5},
		},
		{
			name: "nor when the earlier run was itself fed a historical load",
			cdc:  true,
			bundles: []bundle{
				{1, ended, []any{metric("p1", 2, 5)}},
				{2, ended, []any{metric("p1", 0, 1)}},
			},
			want: []int64{5},
		},
		{
			name: "whatever order the appends land in",
			cdc:  true,
			bundles: []bundle{
				{2, ended, []any{metric("p1", 0, 1)}},
				{1, open, []any{metric("p1", 3, 5)}},
			},
			want: []int64{5},
		},
		{
			name:    "where no earlier row exists the relaunched job's row stands",
			cdc:     true,
			bundles: []bundle{{1, open, []any{metric("p1", 0, 5)}}, {2, ended, []any{metric("p2", 0, 1)}}},
			want:    []int64{5, 1},
		},
		{
			name:    "a job fed a historical load writes its windows, a later pane replacing an earlier one",
			cdc:     true,
			bundles: []bundle{{1, ended, []any{metric("p1", 0, 1), metric("p2", 2, 7)}}, {1, ended, []any{metric("p1", 1, 3), metric("p2", 1, 6)}}},
			want:    []int64{3, 7},
		},
		{
			name:    "without CDC every pane is appended",
			bundles: []bundle{{1, open, []any{metric("p1", 0, 1)}}, {1, open, []any{metric("p1", 1, 3)}}},
			want:    []int64{1, 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, schemas.TableProductMetrics, pk...)
			cfg := testConfig(srv, schemas.TableProductMetrics)
			cfg.CDC = tc.cdc
			for _, b := range tc.bundles {
				cfg.RunSequence, cfg.RunStart = b.run, b.start
				if _, err := writeBundles(t, cfg, b.rows); err != nil {
					t.Fatal(err)
				}
			}
			var views []int64
			for _, r := range srv.Rows(schemas.TableProductMetrics) {
				views = append(views, r["views"].(int64))
			}
			if diff := cmp.Diff(tc.want, views); diff != "" {
				t.Errorf("views (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangeSequence(t *testing.T) {
	start := t0
	o := changeOrder{run: 0x1234, start: start}
	backfill := changeOrder{run: 0x1234, start: start, backfill: true}
	tests := []struct {
		o    changeOrder
		end  time.Time
		pane int64
		want string
	}{
		{o, start.Add(time.Minute), 3, "1/1234/3"},
		{o, time.Time{}, 10, "1/1234/a"}, // no window_end: streaming
		{o, start, 0, "0/7fffffffffffedcb/0"},
		{o, start.Add(-time.Hour), 255, "0/7fffffffffffedcb/ff"},
		// A backfill's windows all ended before it started: still class 2, its run counting up.
		{backfill, start.Add(-time.Hour), 2, "2/1234/2"},
		{backfill, time.Time{}, 0, "2/1234/0"},
	}
	for _, tc := range tests {
		if got := tc.o.sequence(tc.end, tc.pane); got != tc.want {
			t.Errorf("sequence(%v, %d) = %s, want %s", tc.end, tc.pane, got, tc.want)
		}
	}
}

func TestWriteMissingTable(t *testing.T) {
	tests := []struct {
		name    string
		table   string // destination, of schema product_metrics
		create  bool
		cdc     bool
		wantErr error
		wantKey []string
	}{
		{name: "is a start-up error naming the table", table: "product_metrics", wantErr: ErrTableNotFound},
		{name: "is created from schemas/ with CreateTables", table: "product_metrics", create: true},
		{name: "is created with its primary key under CDC", table: "product_metrics", create: true, cdc: true, wantKey: []string{"window_start", "product_id"}},
		{name: "is created from its schema whatever its name", table: "metrics_v2", create: true, cdc: true, wantKey: []string{"window_start", "product_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			cfg := testConfig(srv, tc.table)
			cfg.Schema = schemas.TableProductMetrics
			cfg.CreateTables, cfg.CDC = tc.create, tc.cdc
			err := EnsureTable(t.Context(), cfg)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("EnsureTable: error %v, want %v", err, tc.wantErr)
			}
			_, werr := writeBundles(t, cfg, []any{metric("p1", 0, 1)})
			if !errors.Is(werr, tc.wantErr) {
				t.Fatalf("write: error %v, want %v", werr, tc.wantErr)
			}
			if tc.wantErr != nil {
				name := "projects/test-project/datasets/tributary/tables/product_metrics"
				if !strings.Contains(err.Error(), name) || !strings.Contains(werr.Error(), name) {
					t.Errorf("errors %q and %q do not name %s", err, werr, name)
				}
				return
			}
			want, _ := schemas.TableSchema(schemas.TableProductMetrics)
			if diff := cmp.Diff(canonical(want), canonical(srv.Schema(tc.table))); diff != "" {
				t.Errorf("created schema (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantKey, srv.PrimaryKey(tc.table)); diff != "" {
				t.Errorf("primary key (-want +got):\n%s", diff)
			}
			if got := len(srv.Rows(tc.table)); got != 1 {
				t.Errorf("rows = %d, want 1", got)
			}
		})
	}
}

// eventSize is the encoded size of one test event.
func eventSize(t *testing.T) int {
	t.Helper()
	c, _ := tableCodec(t, schemas.TableEvents, false, changeOrder{})
	b, err := c.encode([]byte(jsonOf(t, event("e0000", "p1"))))
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// canonical spells types and modes one way: the REST API answers with legacy type names.
func canonical(fields []schemas.TableField) []schemas.TableField {
	out := make([]schemas.TableField, len(fields))
	for i, f := range fields {
		f.Type, _, _ = canonicalType(f.Type)
		if f.Mode == "" {
			f.Mode = "NULLABLE"
		}
		f.Fields = canonical(f.Fields)
		out[i] = f
	}
	return out
}

// TestWriteRequestSizeLimit: BigQuery refuses an append above 10 MB with INVALID_ARGUMENT
// ("AppendRows request too large"), a permanent refusal: the sink splits the batch until each
// append fits, and only a row that fits no append becomes a dead letter, never a retry or a
// failed bundle.
func TestWriteRequestSizeLimit(t *testing.T) {
	big := func(id string, n int) schemas.DeadLetterRow {
		return schemas.DeadLetter{Step: "decode", Reason: "too_large", Error: "x", Payload: bytes.Repeat([]byte{0xff}, n),
			MessageID: id, Time: t0}.Row()
	}
	tests := []struct {
		name      string
		limit     int // bqtest's request limit; 0: BigQuery's 10 MB
		rows      []any
		wantIDs   []string
		wantDead  []string // message ids
		wantError string   // of the dead letters
	}{
		{
			name: "a batch over the limit is split and every row lands", limit: 300 << 10,
			rows:    []any{big("m1", 100<<10), big("m2", 100<<10), big("m3", 100<<10), big("m4", 100<<10), big("m5", 100<<10)},
			wantIDs: []string{"m1", "m2", "m3", "m4", "m5"},
		},
		{
			name: "a row over the limit on its own is a dead letter and the rest land", limit: 300 << 10,
			rows:     []any{big("m1", 100<<10), big("m2", 400<<10), big("m3", 100<<10)},
			wantIDs:  []string{"m1", "m3"},
			wantDead: []string{"m2"}, wantError: "AppendRows request too large",
		},
		{
			name:     "a row above 10 MB is never sent",
			rows:     []any{big("m1", 100<<10), big("m2", 11<<20)},
			wantIDs:  []string{"m1"},
			wantDead: []string{"m2"}, wantError: "over the",
		},
		{
			// Above gRPC's default 4 MiB receive limit, which the server once kept: the append
			// failed as RESOURCE_EXHAUSTED and was retried as transient until the bundle failed.
			name:    "an append of 6 MB lands",
			rows:    []any{big("m1", 3<<20), big("m2", 3<<20)},
			wantIDs: []string{"m1", "m2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := bqtest.Start(t)
			serverTable(t, srv, schemas.TableDeadLetters)
			srv.LimitRequestBytes(tc.limit)
			cfg := testConfig(srv, schemas.TableDeadLetters)
			cfg.MaxBatchBytes, cfg.MaxRetries = 10<<20-1<<20, 1
			dead, err := writeBundles(t, cfg, tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			var ids, deadIDs []string
			for _, r := range srv.Rows(schemas.TableDeadLetters) {
				ids = append(ids, r["message_id"].(string))
			}
			for _, d := range dead {
				deadIDs = append(deadIDs, d.MessageID)
				if d.Reason != ReasonTooLarge || !strings.Contains(d.Error, tc.wantError) {
					t.Errorf("dead letter %s: reason %s, error %q; want %s with %q", d.MessageID, d.Reason, d.Error, ReasonTooLarge, tc.wantError)
				}
				if len(d.Payload) > deadletter.MaxPayload || d.PayloadSize < int64(len(d.Payload)) {
					t.Errorf("dead letter %s: payload %d of %d bytes, want at most %d", d.MessageID, len(d.Payload), d.PayloadSize, deadletter.MaxPayload)
				}
			}
			sortStrings := cmpopts.SortSlices(func(a, b string) bool { return a < b })
			if diff := cmp.Diff(tc.wantIDs, ids, sortStrings); diff != "" {
				t.Errorf("rows written (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantDead, deadIDs, sortStrings); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
			if got := srv.Stats().RowsAppended; got != len(tc.wantIDs) {
				t.Errorf("%d rows appended, want %d (each once)", got, len(tc.wantIDs))
			}
		})
	}
}
