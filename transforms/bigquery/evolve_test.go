package bigquery

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// TestWriteSchemaEvolution runs the sink against a table that is behind the binary (no v2
// columns) and has a column the binary does not know, then adds the v2 columns mid-run: the
// sink never fails, writes the columns both know, dead-letters the rows that need a column the
// table lacks, and writes the new columns once an append's response reports them.
func TestWriteSchemaEvolution(t *testing.T) {
	srv := bqtest.Start(t)
	fields, err := schemas.TableSchema(schemas.TableEvents)
	if err != nil {
		t.Fatal(err)
	}
	isV2 := func(f schemas.TableField) bool { return f.Name == "discount" || f.Name == "channel" }
	var v2Columns []schemas.TableField
	for _, f := range fields {
		if isV2(f) {
			v2Columns = append(v2Columns, f)
		}
	}
	if len(v2Columns) != 2 {
		t.Fatalf("events has v2 columns %v, want discount and channel", v2Columns)
	}
	// The table as it was before v2, plus a column a newer binary added.
	old := append(slices.DeleteFunc(slices.Clone(fields), isV2),
		schemas.TableField{Name: "loyalty_tier", Type: "STRING", Mode: "NULLABLE"})
	srv.CreateTable(testProject, testDataset, schemas.TableEvents, bqtest.WithSchema(old))

	v2 := func(id string) schemas.Event {
		e := event(id, "p1")
		e.SchemaVersion, e.Discount, e.Channel = 2, dec("1.5"), schemas.ChannelApp
		return e
	}
	fn := &writeFn{Config: testConfig(srv, schemas.TableEvents).WithDefaults()}
	ctx := context.Background()
	if err := fn.Setup(ctx); err != nil {
		t.Fatalf("Setup against a table with a column the binary does not know: %v", err)
	}
	defer func() {
		if err := fn.Teardown(); err != nil {
			t.Errorf("Teardown: %v", err)
		}
	}()
	var dead []schemas.DeadLetter
	emit := func(_ beam.EventTime, d schemas.DeadLetter) { dead = append(dead, d) }
	bundle := func(rows ...schemas.Event) {
		t.Helper()
		fn.StartBundle(ctx, emit)
		for _, r := range rows {
			if err := fn.ProcessElement(ctx, beam.EventTime(0), r, emit); err != nil {
				t.Fatalf("ProcessElement(%s): %v", r.EventID, err)
			}
		}
		if err := fn.FinishBundle(ctx, emit); err != nil {
			t.Fatalf("FinishBundle: %v", err)
		}
	}

	bundle(event("v1-before", "p1"), v2("v2-before"))
	srv.AddColumns(schemas.TableEvents, v2Columns...)
	bundle(event("v1-after", "p1"), v2("v2-racing")) // encoded before any response reports the columns
	bundle(v2("v2-after"))

	var gotDead []string
	for _, d := range dead {
		// Either v2 column may be named: the row's keys are checked in map order.
		if d.Reason != ReasonEncode || !strings.Contains(d.Error, "discount is not a column") && !strings.Contains(d.Error, "channel is not a column") {
			t.Errorf("dead letter %s: %s, want %s naming discount or channel", d.Reason, d.Error, ReasonEncode)
		}
		var e struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(d.Payload, &e); err != nil {
			t.Fatalf("dead letter payload %q: %v", d.Payload, err)
		}
		gotDead = append(gotDead, e.EventID)
	}
	if diff := cmp.Diff([]string{"v2-before", "v2-racing"}, gotDead); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	type stored struct{ ID, Discount, Channel, Loyalty any }
	var got []stored
	for _, r := range srv.Rows(schemas.TableEvents) {
		got = append(got, stored{r["event_id"], r["discount"], r["channel"], r["loyalty_tier"]})
	}
	want := []stored{{ID: "v1-before"}, {ID: "v1-after"}, {ID: "v2-after", Discount: "1.5", Channel: "app"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored rows (-want +got):\n%s", diff)
	}
}

// TestRestrictKeepsFieldNumbers checks the writer schema of the columns both know: fields the
// table lacks (top-level and nested) are gone, the rest keep the binary's field numbers, so a
// row encoded before a schema update decodes the same after it.
func TestRestrictKeepsFieldNumbers(t *testing.T) {
	full, fields := tableCodec(t, schemas.TableEvents, true, changeOrder{})
	table, err := storageFields(fields)
	if err != nil {
		t.Fatal(err)
	}
	table = slices.DeleteFunc(table, func(f *storagepb.TableFieldSchema) bool { return f.GetName() == "discount" })
	for _, f := range table {
		if f.GetName() == "device" {
			f.Fields = f.Fields[:1] // os only
		}
	}
	r := full.restrict(table)
	numbers := func(c *rowCodec) map[string]int32 {
		m := map[string]int32{}
		for _, f := range c.descriptor.GetField() {
			m[f.GetName()] = f.GetNumber()
		}
		return m
	}
	want := numbers(full)
	delete(want, "discount")
	if diff := cmp.Diff(want, numbers(r)); diff != "" {
		t.Errorf("restricted field numbers (-want +got):\n%s", diff)
	}
	var device []string
	for _, n := range r.descriptor.GetNestedType() {
		for _, f := range n.GetField() {
			device = append(device, n.GetName()+"."+f.GetName())
		}
	}
	if len(device) != 1 || !strings.HasSuffix(device[0], ".os") {
		t.Errorf("nested fields %v, want device's os only", device)
	}
	if len(full.descriptor.GetNestedType()[0].GetField()) != 2 {
		t.Error("restrict changed the full codec's descriptor")
	}
	row := func(country string) []byte {
		e := event("e1", "p1")
		e.Device = schemas.Device{OS: "ios", Country: country}
		return []byte(jsonOf(t, e))
	}
	if _, err := r.encode(row("")); err != nil {
		t.Errorf("a row with only known columns: %v", err)
	}
	if _, err := r.encode(row("FR")); err == nil || !strings.Contains(err.Error(), "country") {
		t.Errorf("a row with device.country for a table without it: %v, want an error naming country", err)
	}
}
