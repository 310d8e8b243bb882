package schemas

import (
	"strings"
	"testing"
)

// TestLoadProblems keeps the checker the file-output tests rely on able to fail: each bad line
// names the column and why.
func TestLoadProblems(t *testing.T) {
	fields := []TableField{
		{Name: "id", Type: "STRING", Mode: "REQUIRED"},
		{Name: "n", Type: "INT64", Mode: "NULLABLE"},
		{Name: "ok", Type: "BOOL", Mode: "NULLABLE"},
		{Name: "amount", Type: "NUMERIC", Mode: "NULLABLE"},
		{Name: "at", Type: "TIMESTAMP", Mode: "NULLABLE"},
		{Name: "raw", Type: "BYTES", Mode: "NULLABLE"},
		{Name: "doc", Type: "JSON", Mode: "NULLABLE"},
		{Name: "tags", Type: "STRING", Mode: "REPEATED"},
		{Name: "device", Type: "RECORD", Mode: "NULLABLE", Fields: []TableField{{Name: "os", Type: "STRING", Mode: "REQUIRED"}}},
	}
	tests := []struct {
		name string
		line string
		want string // a substring of the only problem; empty: the line loads
	}{
		{"every type", `{"id":"a","n":-9223372036854775808,"ok":true,"amount":"-12345678901234567890123456789.123456789","at":"2026-11-01T12:00:00.5Z","raw":"/w==","doc":{"x":[1]},"tags":["a"],"device":{"os":"ios"}}`, ""},
		{"nullable columns null or absent", `{"id":"a","n":null,"device":null}`, ""},
		{"numeric as a JSON number", `{"id":"a","amount":12.5}`, ""},
		{"unknown column", `{"id":"a","nope":1}`, "nope: no such column"},
		{"required missing", `{"n":1}`, "id: REQUIRED column missing or null"},
		{"required null", `{"id":null}`, "id: REQUIRED column missing or null"},
		{"required in a record", `{"id":"a","device":{}}`, "device.os: REQUIRED"},
		{"string as a number", `{"id":1}`, "id: not a UTF-8 string"},
		{"int64 out of range", `{"id":"a","n":9223372036854775808}`, "n: not a 64-bit integer"},
		{"int64 with a fraction", `{"id":"a","n":1.5}`, "n: not a 64-bit integer"},
		{"bool as a string", `{"id":"a","ok":"true"}`, "ok: not a bool"},
		{"numeric too wide", `{"id":"a","amount":"123456789012345678901234567890"}`, "amount: not a NUMERIC"},
		{"numeric too fine", `{"id":"a","amount":"0.0000000001"}`, "amount: not a NUMERIC"},
		{"timestamp not RFC 3339", `{"id":"a","at":"2026-11-01 12:00:00"}`, "at: not an RFC 3339 time"},
		{"timestamp in year 10000", `{"id":"a","at":"10000-01-01T00:00:00Z"}`, "at: not an RFC 3339 time"},
		{"bytes not base64", `{"id":"a","raw":"@@"}`, "raw: not base64"},
		{"repeated not an array", `{"id":"a","tags":"a"}`, "tags: REPEATED column holds string"},
		{"null in repeated", `{"id":"a","tags":[null]}`, "tags[0]: null in a REPEATED column"},
		{"record not an object", `{"id":"a","device":"ios"}`, "device: not an object"},
		{"not an object", `[1]`, "not a JSON object"},
		{"two values", `{"id":"a"} {"id":"b"}`, "more than one JSON value"},
		{"two lines", "{\"id\":\"a\"}\n", "row spans lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LoadProblems(fields, []byte(tt.line))
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("problems %q, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Errorf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
}
