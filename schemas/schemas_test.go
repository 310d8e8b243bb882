package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

type tableType struct {
	table string
	row   reflect.Type
}

// tableTypes pairs every table that has a schema file with the Go row type written to it.
var tableTypes = []tableType{
	{TableEvents, reflect.TypeFor[Event]()},
	{TableProductMetrics, reflect.TypeFor[ProductMetric]()},
	{TableDeadLetters, reflect.TypeFor[DeadLetterRow]()},
	{TableTrendingProducts, reflect.TypeFor[TrendingProducts]()},
	{TableUserSessions, reflect.TypeFor[UserSession]()},
	{TableFraudAlerts, reflect.TypeFor[FraudAlert]()},
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	decimalType = reflect.TypeFor[Decimal]()
	numericType = reflect.TypeFor[Numeric]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
)

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name     string
	optional bool // omitempty or omitzero: the key may be absent
	field    reflect.StructField
}

// jsonFields lists the JSON keys of struct type t in encoding order, flattening untagged
// embedded structs as encoding/json does.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := slices.Contains(strings.Split(opts, ","), "omitempty") ||
			slices.Contains(strings.Split(opts, ","), "omitzero")
		out = append(out, jsonField{name: name, optional: optional, field: f})
	}
	return out
}

// bqSchemaOf derives the BigQuery schema a Go row type implies. Mode is REQUIRED when the key is
// always written and NULLABLE when it may be omitted. The one exception is a slice of structs:
// BigQuery has no NULL or REQUIRED array, so it is REPEATED (an omitted or empty array loads as
// an empty one).
func bqSchemaOf(t *testing.T, typ reflect.Type) []TableField {
	t.Helper()
	var out []TableField
	for _, f := range jsonFields(typ) {
		ft := f.field.Type
		col := TableField{Name: f.name, Mode: "REQUIRED"}
		if f.optional {
			col.Mode = "NULLABLE"
		}
		switch {
		case ft == timeType:
			col.Type = "TIMESTAMP"
		case ft == decimalType, ft == numericType:
			col.Type = "NUMERIC"
		case ft == rawJSONType, ft.Kind() == reflect.Map:
			col.Type = "JSON"
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Uint8:
			col.Type = "BYTES"
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			col.Type, col.Mode, col.Fields = "RECORD", "REPEATED", bqSchemaOf(t, ft.Elem())
		case ft.Kind() == reflect.Struct:
			col.Type, col.Fields = "RECORD", bqSchemaOf(t, ft)
		case ft.Kind() == reflect.String:
			col.Type = "STRING"
		case ft.Kind() == reflect.Int64:
			col.Type = "INT64"
		case ft.Kind() == reflect.Bool:
			col.Type = "BOOL"
		default:
			t.Fatalf("%s.%s: no BigQuery type for Go type %s", typ, f.field.Name, ft)
		}
		out = append(out, col)
	}
	return out
}

func TestTableSchemasMatchGoTypes(t *testing.T) {
	for _, tt := range tableTypes {
		t.Run(tt.table, func(t *testing.T) {
			got, err := TableSchema(tt.table)
			if err != nil {
				t.Fatal(err)
			}
			want := bqSchemaOf(t, tt.row)
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(TableField{}, "Description")); diff != "" {
				t.Errorf("bigquery/%s.json disagrees with %s (-from Go +from file):\n%s", tt.table, tt.row, diff)
			}
		})
	}
}

var bqName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,299}$`)

// TestTableSchemaFilesWellFormed checks what bq mk and Terraform would reject or silently default.
func TestTableSchemaFilesWellFormed(t *testing.T) {
	types := map[string]bool{"STRING": true, "BYTES": true, "INT64": true, "FLOAT64": true, "BOOL": true,
		"TIMESTAMP": true, "DATE": true, "NUMERIC": true, "BIGNUMERIC": true, "JSON": true, "RECORD": true}
	modes := map[string]bool{"NULLABLE": true, "REQUIRED": true, "REPEATED": true}
	var check func(path string, fields []TableField)
	check = func(path string, fields []TableField) {
		if len(fields) == 0 {
			t.Errorf("%s: no fields", path)
		}
		seen := map[string]bool{}
		for _, f := range fields {
			p := path + "." + f.Name
			if !bqName.MatchString(f.Name) {
				t.Errorf("%s: invalid column name", p)
			}
			if seen[strings.ToLower(f.Name)] { // BigQuery column names are case-insensitive
				t.Errorf("%s: duplicate column", p)
			}
			seen[strings.ToLower(f.Name)] = true
			if !types[f.Type] {
				t.Errorf("%s: type %q", p, f.Type)
			}
			if !modes[f.Mode] {
				t.Errorf("%s: mode %q (every field needs an explicit mode)", p, f.Mode)
			}
			if f.Description == "" {
				t.Errorf("%s: no description", p)
			}
			if (f.Type == "RECORD") != (f.Fields != nil) {
				t.Errorf("%s: fields must be given exactly for RECORD", p)
			}
			if f.Type == "RECORD" {
				check(p, f.Fields)
			}
		}
	}

	files, err := fs.Glob(tableSchemas, "bigquery/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		table := strings.TrimSuffix(strings.TrimPrefix(file, "bigquery/"), ".json")
		if !slices.ContainsFunc(tableTypes, func(tt tableType) bool { return tt.table == table }) {
			t.Errorf("%s has no Go row type in tableTypes, so nothing checks it", file)
		}
		fields, err := TableSchema(table)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		check(table, fields)
	}
}

func TestTableSchemaUnknown(t *testing.T) {
	for _, table := range []string{"nope", "../embed"} {
		if _, err := TableSchema(table); !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("TableSchema(%q) error = %v, want not-exist", table, err)
		}
	}
}

// TestRowsLoadIntoTables marshals rows as the local BigQuery output does and checks every line as
// `bq load --source_format=NEWLINE_DELIMITED_JSON` would: each key a column, each REQUIRED column
// present and non-null, each value of the column's type.
func TestRowsLoadIntoTables(t *testing.T) {
	at := time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	full := Event{
		EventID: "e-1", EventType: Purchase, EventTime: at, UserID: "u-1", SessionHint: "s-1",
		ProductID: "p-0001", Quantity: 2, Amount: 3998 * DecimalScale / 100, Currency: "EUR",
		Device: Device{OS: "ios", Country: "DE"}, Attributes: map[string]string{"campaign": "spring"},
		SchemaVersion: 1, Extra: json.RawMessage(`{"coupon":"X1","tags":[1,2]}`), MessageID: "m-1",
		PublishTime: at.Add(time.Second), Category: "electronics", ListPrice: 1999 * DecimalScale / 100,
		AmountUSD: 43390294 * DecimalScale / 1_000_000, Late: true,
	}
	rows := []struct {
		name  string
		table string
		row   any
	}{
		{"full event", TableEvents, full},
		{"minimal page view", TableEvents, Event{EventID: "e-2", EventType: PageView, EventTime: at, UserID: "u", Currency: "USD", SchemaVersion: 1}},
		{"zero event", TableEvents, Event{}},
		{"product metric", TableProductMetrics, ProductMetric{
			Pane:      Pane{WindowStart: at, WindowEnd: at.Add(time.Minute), PaneIndex: 1, PaneTiming: PaneLate, IsFinal: true},
			ProductID: "p-0001", Category: "books", Views: 10, Carts: 3, Purchases: 2, Refunds: 1,
			RevenueUSD: NumericOf(5 * DecimalScale), RefundsUSD: NumericOf(DecimalScale / 4), DistinctUsers: 7,
		}},
		{"zero product metric", TableProductMetrics, ProductMetric{}},
		{"dead letter", TableDeadLetters, DeadLetter{
			Step: "decode", Reason: "invalid_json", Error: "unexpected end", Payload: []byte(`{"a":`),
			Attributes: map[string]string{"b": "2", "a": "1"}, MessageID: "m", PublishTime: at, Time: at,
		}.Row()},
		{"binary dead letter", TableDeadLetters, DeadLetter{Step: "decode", Reason: "too_large", Error: "x", Payload: []byte{0xff, 0xfe}, Time: at}.Row()},
		{"zero dead letter", TableDeadLetters, DeadLetter{}.Row()},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			line, err := json.Marshal(tt.row)
			if err != nil {
				t.Fatal(err)
			}
			schema, err := TableSchema(tt.table)
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range LoadProblems(schema, line) {
				t.Errorf("%s\nline: %s", problem, line)
			}
		})
	}
}

// eventSchemaDoc is the part of the event JSON Schema the tests read directly.
type eventSchemaDoc struct {
	Schema               string                    `json:"$schema"`
	Type                 string                    `json:"type"`
	Required             []string                  `json:"required"`
	Properties           map[string]propertySchema `json:"properties"`
	AdditionalProperties *bool                     `json:"additionalProperties"`
}

type propertySchema struct {
	Type       string                    `json:"type"`
	Properties map[string]propertySchema `json:"properties"`
	MaxLength  *int                      `json:"maxLength"`
	Pattern    string                    `json:"pattern"`
	Default    any                       `json:"default"`
	Const      any                       `json:"const"`
	Enum       []any                     `json:"enum"`
}

// jsonSchemaType is the JSON Schema type a Go field's JSON encoding has.
func jsonSchemaType(t *testing.T, ft reflect.Type) string {
	t.Helper()
	switch {
	case ft == timeType, ft.Kind() == reflect.String:
		return "string"
	case ft == decimalType:
		return "number"
	case ft.Kind() == reflect.Int64:
		return "integer"
	case ft.Kind() == reflect.Struct, ft.Kind() == reflect.Map:
		return "object"
	}
	t.Fatalf("no JSON Schema type for %s", ft)
	return ""
}

// v2Fields are the payload fields v2 adds; in a v1 event they are unknown fields.
var v2Fields = map[string]bool{"discount": true, "channel": true}

// TestEventJSONSchemaMatchesEvent checks that each version's JSON Schema's properties are
// exactly the payload fields of Event (those before Extra) that version reads, with matching
// types.
func TestEventJSONSchemaMatchesEvent(t *testing.T) {
	for v := SchemaV1; v <= LatestVersion; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) { checkEventJSONSchema(t, v) })
	}
}

func checkEventJSONSchema(t *testing.T, version int) {
	raw, err := EventJSONSchemaVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	var doc eventSchemaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("event.v%d.schema.json: %v", version, err)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" || doc.Type != "object" {
		t.Errorf("$schema = %q, type = %q; want draft 2020-12 object", doc.Schema, doc.Type)
	}
	if doc.AdditionalProperties == nil || !*doc.AdditionalProperties {
		t.Error("additionalProperties must be true: unknown fields are kept, not rejected")
	}

	want := map[string]string{}
	wantDevice := map[string]string{}
	optional := map[string]bool{}
	payload := true // the fields before Extra; the rest are filled in by the pipeline, but for
	// the v2 fields, which come last so that the table gains them as its last columns
	for _, f := range jsonFields(reflect.TypeFor[Event]()) {
		payload = payload && f.field.Name != "Extra"
		if v2Fields[f.name] && version < SchemaV2 || !payload && !v2Fields[f.name] {
			continue
		}
		want[f.name] = jsonSchemaType(t, f.field.Type)
		optional[f.name] = f.optional
	}
	for _, f := range jsonFields(reflect.TypeFor[Device]()) {
		wantDevice[f.name] = jsonSchemaType(t, f.field.Type)
	}
	got := map[string]string{}
	for name, p := range doc.Properties {
		got[name] = p.Type
	}
	gotDevice := map[string]string{}
	for name, p := range doc.Properties["device"].Properties {
		gotDevice[name] = p.Type
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema properties vs Event payload fields (-Go +schema):\n%s", diff)
	}
	if diff := cmp.Diff(wantDevice, gotDevice); diff != "" {
		t.Errorf("schema device properties vs Device (-Go +schema):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"event_id", "event_type", "event_time", "user_id"}, doc.Required); diff != "" {
		t.Errorf("required (-want +got):\n%s", diff)
	}
	for _, name := range doc.Required {
		if optional[name] {
			t.Errorf("%s is required by the schema but omitempty in Event", name)
		}
	}
	if diff := cmp.Diff([]any{PageView, AddToCart, Purchase, Refund}, doc.Properties["event_type"].Enum); diff != "" {
		t.Errorf("event_type enum (-Go constants +schema):\n%s", diff)
	}
	if p := doc.Properties["event_id"]; p.MaxLength == nil || *p.MaxLength != 128 {
		t.Errorf("event_id maxLength = %v, want 128", p.MaxLength)
	}
	if p := doc.Properties["currency"]; p.Default != "USD" {
		t.Errorf("currency default = %v, want USD", p.Default)
	}
	p := doc.Properties["schema_version"]
	switch version {
	case SchemaV1:
		if p.Default != 1.0 || p.Const != 1.0 {
			t.Errorf("schema_version default, const = %v, %v; want 1, 1", p.Default, p.Const)
		}
	default:
		if diff := cmp.Diff([]any{1.0, 2.0}, p.Enum); p.Default != 1.0 || diff != "" {
			t.Errorf("schema_version default = %v, want 1; enum (-want +got):\n%s", p.Default, diff)
		}
		if diff := cmp.Diff([]any{ChannelWeb, ChannelApp, ChannelStore, ChannelMarketplace}, doc.Properties["channel"].Enum); diff != "" {
			t.Errorf("channel enum (-Go constants +schema):\n%s", diff)
		}
	}
}

// TestEventJSONSchemaValidates runs documents through each version's schema with a small
// validator for the keywords the schemas use, and checks that every valid document also
// decodes into Event. Every v1 document valid in v1 is valid in v2.
func TestEventJSONSchemaValidates(t *testing.T) {
	schemas := map[int]any{}
	for v := SchemaV1; v <= LatestVersion; v++ {
		raw, err := EventJSONSchemaVersion(v)
		if err != nil {
			t.Fatal(err)
		}
		var schema any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&schema); err != nil {
			t.Fatal(err)
		}
		schemas[v] = schema
	}
	base := `"event_id":"e-1","event_time":"2025-03-14T15:09:26.535+01:00","user_id":"u-1"`
	tests := []struct {
		name  string
		doc   string
		valid bool
		in    map[int]bool // validity per version, where it differs from valid
	}{
		{"page view without product", `{` + base + `,"event_type":"page_view"}`, true, nil},
		{"purchase", `{` + base + `,"event_type":"purchase","product_id":"p-0001","quantity":2,"amount":39.98,"currency":"EUR","device":{"os":"ios","country":"DE"},"attributes":{"k":"v"},"schema_version":1}`, true, nil},
		{"refund with integer amount", `{` + base + `,"event_type":"refund","product_id":"p-1","amount":5}`, true, nil},
		{"add to cart without amount", `{` + base + `,"event_type":"add_to_cart","product_id":"p-1","quantity":1}`, true, nil},
		{"unknown fields kept", `{` + base + `,"event_type":"page_view","campaign":{"id":7},"device":{"os":"x","browser":"y"}}`, true, nil},
		{"UTC zone", `{"event_id":"e","event_type":"page_view","event_time":"2025-03-14T15:09:26Z","user_id":"u"}`, true, nil},
		{"event_id 128 chars", `{"event_id":"` + strings.Repeat("é", 128) + `","event_type":"page_view","event_time":"2025-03-14T15:09:26Z","user_id":"u"}`, true, nil},
		{"event_id 129 chars", `{"event_id":"` + strings.Repeat("a", 129) + `","event_type":"page_view","event_time":"2025-03-14T15:09:26Z","user_id":"u"}`, false, nil},
		{"empty event_id", `{"event_id":"","event_type":"page_view","event_time":"2025-03-14T15:09:26Z","user_id":"u"}`, false, nil},
		{"missing user_id", `{"event_id":"e","event_type":"page_view","event_time":"2025-03-14T15:09:26Z"}`, false, nil},
		{"missing event_type", `{` + base + `}`, false, nil},
		{"unknown event_type", `{` + base + `,"event_type":"click"}`, false, nil},
		{"event_time without zone", `{"event_id":"e","event_type":"page_view","event_time":"2025-03-14T15:09:26","user_id":"u"}`, false, nil},
		{"event_time as number", `{"event_id":"e","event_type":"page_view","event_time":1741961366,"user_id":"u"}`, false, nil},
		{"purchase without amount", `{` + base + `,"event_type":"purchase","product_id":"p-1"}`, false, nil},
		{"refund without amount", `{` + base + `,"event_type":"refund","product_id":"p-1"}`, false, nil},
		{"purchase without product", `{` + base + `,"event_type":"purchase","amount":1}`, false, nil},
		{"add to cart without product", `{` + base + `,"event_type":"add_to_cart"}`, false, nil},
		{"negative quantity", `{` + base + `,"event_type":"page_view","quantity":-1}`, false, nil},
		{"fractional quantity", `{` + base + `,"event_type":"page_view","quantity":1.5}`, false, nil},
		{"negative amount", `{` + base + `,"event_type":"refund","product_id":"p-1","amount":-0.01}`, false, nil},
		{"amount as string", `{` + base + `,"event_type":"refund","product_id":"p-1","amount":"5"}`, false, nil},
		{"lower-case currency", `{` + base + `,"event_type":"page_view","currency":"usd"}`, false, nil},
		{"four-letter currency", `{` + base + `,"event_type":"page_view","currency":"USDT"}`, false, nil},
		{"schema_version 2", `{` + base + `,"event_type":"page_view","schema_version":2}`, true, map[int]bool{1: false}},
		{"schema_version 3", `{` + base + `,"event_type":"page_view","schema_version":3}`, false, nil},
		{"v2 discount and channel", `{` + base + `,"event_type":"purchase","product_id":"p-1","amount":9,"discount":1.5,"channel":"app","schema_version":2}`, true, map[int]bool{1: false}},
		{"negative discount", `{` + base + `,"event_type":"page_view","discount":-1,"schema_version":2}`, false, nil},
		{"unknown channel", `{` + base + `,"event_type":"page_view","channel":"fax","schema_version":2}`, false, nil},
		{"non-string attribute", `{` + base + `,"event_type":"page_view","attributes":{"n":1}}`, false, nil},
		{"device not an object", `{` + base + `,"event_type":"page_view","device":"ios"}`, false, nil},
		{"not an object", `[1]`, false, nil},
	}
	for _, tt := range tests {
		for version, schema := range schemas {
			valid, ok := tt.in[version]
			if !ok {
				valid = tt.valid
			}
			t.Run(fmt.Sprintf("v%d/%s", version, tt.name), func(t *testing.T) {
				checkDocument(t, schema, tt.doc, valid)
			})
		}
	}
}

func checkDocument(t *testing.T, schema any, text string, valid bool) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	errs := validate(t, schema, doc, "$")
	if got := len(errs) == 0; got != valid {
		t.Errorf("valid = %v, want %v; problems: %v", got, valid, errs)
	}
	if valid {
		var e Event
		if err := json.Unmarshal([]byte(text), &e); err != nil {
			t.Errorf("schema-valid document does not decode into Event: %v", err)
		}
	}
}

// validate implements the JSON Schema keywords the event schemas use, and fails the test on
// any other, so the schema cannot silently outgrow what this test checks.
func validate(t *testing.T, schema, v any, path string) []string {
	t.Helper()
	s, ok := schema.(map[string]any)
	if !ok {
		if b, isBool := schema.(bool); isBool {
			if b {
				return nil
			}
			return []string{path + ": false schema"}
		}
		t.Fatalf("%s: schema is %T", path, schema)
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	obj, isObj := v.(map[string]any)
	for kw, arg := range s {
		switch kw {
		case "$schema", "$id", "title", "description", "default", "format":
			// Annotations (format is an annotation in 2020-12; event_time's pattern asserts it).
		case "type":
			if !hasType(v, arg.(string)) {
				fail("not of type %s", arg)
			}
		case "enum":
			if !slices.ContainsFunc(arg.([]any), func(e any) bool { return reflect.DeepEqual(e, v) }) {
				fail("%v not in enum", v)
			}
		case "const":
			if !reflect.DeepEqual(arg, v) {
				fail("%v is not %v", v, arg)
			}
		case "minLength", "maxLength":
			str, isStr := v.(string)
			n, _ := arg.(json.Number).Int64()
			if isStr && ((kw == "minLength" && int64(utf8.RuneCountInString(str)) < n) ||
				(kw == "maxLength" && int64(utf8.RuneCountInString(str)) > n)) {
				fail("length %d violates %s %d", utf8.RuneCountInString(str), kw, n)
			}
		case "pattern":
			if str, isStr := v.(string); isStr && !regexp.MustCompile(arg.(string)).MatchString(str) {
				fail("%q does not match %s", str, arg)
			}
		case "minimum":
			if n, isNum := v.(json.Number); isNum {
				x, _ := n.Float64()
				m, _ := arg.(json.Number).Float64()
				if x < m {
					fail("%v < minimum %v", x, m)
				}
			}
		case "required":
			for _, name := range arg.([]any) {
				if _, present := obj[name.(string)]; isObj && !present {
					fail("missing required %s", name)
				}
			}
		case "properties":
			for name, sub := range arg.(map[string]any) {
				if pv, present := obj[name]; isObj && present {
					errs = append(errs, validate(t, sub, pv, path+"."+name)...)
				}
			}
		case "additionalProperties":
			props, _ := s["properties"].(map[string]any)
			for name, pv := range obj {
				if _, declared := props[name]; !declared {
					errs = append(errs, validate(t, arg, pv, path+"."+name)...)
				}
			}
		case "not":
			if len(validate(t, arg, v, path)) == 0 {
				fail("matches a 'not' schema")
			}
		case "allOf":
			for _, sub := range arg.([]any) {
				errs = append(errs, validate(t, sub, v, path)...)
			}
		case "if":
			if len(validate(t, arg, v, path)) == 0 {
				if then, has := s["then"]; has {
					errs = append(errs, validate(t, then, v, path)...)
				}
			}
		case "then":
			// Applied with "if".
		default:
			t.Fatalf("%s: keyword %q is not implemented by this test's validator", path, kw)
		}
	}
	return errs
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f)
	}
	return false
}

func TestEventExpiredAt(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		at       time.Time // event time
		wm       time.Time // the source's mark; zero: not behind
		d, al    time.Duration
		expected bool
	}{
		{"not behind", t0, time.Time{}, time.Minute, 0, false},
		{"window still open", t0.Add(65 * time.Second), t0.Add(90 * time.Second), time.Minute, 0, false},
		{"window closed", t0.Add(10 * time.Second), t0.Add(90 * time.Second), time.Minute, 0, true},
		{"last millisecond at the watermark", t0.Add(59 * time.Second), t0.Add(time.Minute - time.Millisecond), time.Minute, 0, false},
		{"last millisecond behind it", t0.Add(59 * time.Second), t0.Add(time.Minute), time.Minute, 0, true},
		{"allowed lateness keeps it", t0.Add(10 * time.Second), t0.Add(90 * time.Second), time.Minute, time.Minute, false},
		{"before the epoch", time.Unix(-30, 0), time.Unix(1, 0), time.Minute, 0, true},
		{"before the epoch, open", time.Unix(-30, 0), time.Unix(-1, 0), time.Minute, 0, false},
	}
	for _, tc := range tests {
		e := Event{EventTime: tc.at, BehindWatermark: tc.wm}
		if got := e.ExpiredAt(tc.d, tc.al); got != tc.expected {
			t.Errorf("%s: ExpiredAt = %v, want %v", tc.name, got, tc.expected)
		}
	}
}
