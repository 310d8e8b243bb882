package bigquery

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// TestEncodeNumeric checks the documented NUMERIC bytes encoding (Java's
// BigDecimalByteStringEncoder: scaled by 10^9, minimal two's complement, little-endian) on
// vectors computed independently, and that bqtest reads it back.
func TestEncodeNumeric(t *testing.T) {
	tests := []struct {
		in      any
		want    []byte
		decoded string
		wantErr string
	}{
		{in: "0", want: []byte{0x00}, decoded: "0"},
		{in: "1.2", want: []byte{0x00, 0x8c, 0x86, 0x47}, decoded: "1.2"},
		{in: "-1.2", want: []byte{0x00, 0x74, 0x79, 0xb8}, decoded: "-1.2"},
		{in: json.Number("1"), want: []byte{0x00, 0xca, 0x9a, 0x3b}, decoded: "1"},
		{in: "-0.000000001", want: []byte{0xff}, decoded: "-0.000000001"},
		{in: "0.000000128", want: []byte{0x80, 0x00}, decoded: "0.000000128"},
		{in: "1e2", want: []byte{0x00, 0xe8, 0x76, 0x48, 0x17}, decoded: "100"},
		{
			in:      "99999999999999999999999999999.999999999",
			want:    []byte{0xff, 0xff, 0xff, 0xff, 0x3f, 0x22, 0x8a, 0x09, 0x7a, 0xc4, 0x86, 0x5a, 0xa8, 0x4c, 0x3b, 0x4b},
			decoded: "99999999999999999999999999999.999999999",
		},
		{in: "100000000000000000000000000000", wantErr: "out of NUMERIC range"},
		{in: "0.0000000001", wantErr: "more than 9 fractional digits"},
		{in: "abc", wantErr: "not a decimal"},
		{in: true, wantErr: "want a decimal"},
	}
	for _, tc := range tests {
		got, err := encodeNumeric(tc.in, 9)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("encodeNumeric(%v): error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("encodeNumeric(%v): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("encodeNumeric(%v) (-want +got):\n%s", tc.in, diff)
		}
		if d := bqtest.DecodeNumeric(got, 9); d != tc.decoded {
			t.Errorf("DecodeNumeric(encodeNumeric(%v)) = %s, want %s", tc.in, d, tc.decoded)
		}
	}
}

// TestEveryTableEncodesItsRowType keeps the Go row types and schemas/bigquery in step: a row
// type's JSON must fit its table, or every row would be a dead letter.
func TestEveryTableEncodesItsRowType(t *testing.T) {
	full := schemas.Event{EventID: "e", EventType: schemas.Purchase, EventTime: t0, UserID: "u", SessionHint: "s", ProductID: "p",
		Quantity: 1, Amount: 1, Currency: "USD", Device: schemas.Device{OS: "o", Country: "c"}, Attributes: map[string]string{"a": "b"},
		SchemaVersion: 1, Extra: json.RawMessage(`{"x":[1,2]}`), MessageID: "m", PublishTime: t0, Category: "c", ListPrice: 1, AmountUSD: 1}
	rows := map[string][]any{
		schemas.TableEvents:         {full, schemas.Event{}},
		schemas.TableProductMetrics: {metric("p", 0, 1), schemas.ProductMetric{}},
		schemas.TableDeadLetters:    {schemas.DeadLetter{Payload: []byte{0xff}, Attributes: map[string]string{"k": "v"}, PublishTime: t0}.Row(), schemas.DeadLetter{}.Row()},
	}
	for table, rs := range rows {
		for _, cdc := range []bool{false, true} {
			c, _ := tableCodec(t, table, cdc, changeOrder{run: 1})
			for _, r := range rs {
				if _, err := c.encode([]byte(jsonOf(t, r))); err != nil {
					t.Errorf("%s (cdc %v): %T does not encode: %v", table, cdc, r, err)
				}
			}
		}
	}
}

func TestEncodeRefusesRowsThatDoNotFit(t *testing.T) {
	fields := []schemas.TableField{
		{Name: "id", Type: "STRING", Mode: "REQUIRED"},
		{Name: "n", Type: "INT64", Mode: "NULLABLE"},
		{Name: "at", Type: "TIMESTAMP", Mode: "NULLABLE"},
		{Name: "tags", Type: "STRING", Mode: "REPEATED"},
		{Name: "rec", Type: "RECORD", Mode: "NULLABLE", Fields: []schemas.TableField{{Name: "x", Type: "BOOL", Mode: "REQUIRED"}}},
	}
	c, err := newRowCodec("t", fields, false, changeOrder{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		row, wantErr string
	}{
		{`{"id":"a","n":1,"at":"2026-11-01T12:00:00Z","tags":["x"],"rec":{"x":true}}`, ""},
		{`{"id":"a","n":null}`, ""},
		{`{"n":1}`, "column id is REQUIRED but missing"},
		{`{"id":"a","other":1}`, "field other is not a column"},
		{`{"id":1}`, "column id: want a string"},
		{`{"id":"a","n":1.5}`, "column n"},
		{`{"id":"a","at":"yesterday"}`, "column at"},
		{`{"id":"a","tags":"x"}`, "column tags is REPEATED"},
		{`{"id":"a","rec":{}}`, "column x is REQUIRED"},
		{`[1]`, "not a JSON object"},
	}
	for _, tc := range tests {
		_, err := c.encode([]byte(tc.row))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("encode(%s): %v", tc.row, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("encode(%s): error %v, want %q", tc.row, err, tc.wantErr)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Project: "p", Dataset: "d", Table: schemas.TableEvents}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults are valid", ok, ""},
		{"CDC takes the table's primary key", Config{Project: "p", Dataset: "d", Table: schemas.TableProductMetrics, CDC: true}, ""},
		{"CDC on every table takes its key", Config{Project: "p", Dataset: "d", Table: schemas.TableDeadLetters, CDC: true}, ""},
		{"CDC with a key of 17 columns", Config{Project: "p", Dataset: "d", Table: schemas.TableEvents, CDC: true,
			PrimaryKey: strings.Split("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", ",")}, "needs a PrimaryKey of 1 to 16 columns"},
		{"CDC with discarding panes", Config{Project: "p", Dataset: "d", Table: schemas.TableProductMetrics, CDC: true, DiscardingPanes: true}, "discarding panes add up"},
		{"discarding panes appended", Config{Project: "p", Dataset: "d", Table: schemas.TableProductMetrics, DiscardingPanes: true}, ""},
		{"no table", Config{Project: "p", Dataset: "d"}, "required"},
		{"a table with no schema", Config{Project: "p", Dataset: "d", Table: "nope"}, `no BigQuery schema for table "nope"`},
		{"insecure without endpoint", Config{Project: "p", Dataset: "d", Table: schemas.TableEvents, Insecure: true}, "Insecure needs an Endpoint"},
		{"batch above the request limit", Config{Project: "p", Dataset: "d", Table: schemas.TableEvents, MaxBatchBytes: 11 << 20}, "10 MB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.WithDefaults().Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// tableCodec is the row codec of one of schemas' tables, with the table's fields.
func tableCodec(t testing.TB, table string, cdc bool, order changeOrder) (*rowCodec, []schemas.TableField) {
	t.Helper()
	fields, err := schemas.TableSchema(table)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newRowCodec(table, fields, cdc, order)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	return c, fields
}
