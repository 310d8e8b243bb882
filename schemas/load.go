package schemas

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// LoadProblems lists why `bq load --source_format=NEWLINE_DELIMITED_JSON` would refuse line for
// a table with these columns: a line that is not one JSON object, a key that is no column, a
// REQUIRED column missing or null, a value not of its column's type or range. Empty means the
// line loads. Tests use it on every file output.
func LoadProblems(fields []TableField, line []byte) []string {
	if bytes.ContainsAny(line, "\n\r") {
		return []string{"row spans lines"}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return []string{fmt.Sprintf("not a JSON object: %v", err)}
	}
	if obj == nil {
		return []string{"not a JSON object: null"}
	}
	if dec.More() {
		return []string{"more than one JSON value on the line"}
	}
	return recordProblems(fields, obj, "")
}

func recordProblems(fields []TableField, obj map[string]any, prefix string) []string {
	var problems []string
	cols := map[string]TableField{}
	for _, f := range fields {
		cols[f.Name] = f
	}
	for k := range obj {
		if _, ok := cols[k]; !ok {
			problems = append(problems, fmt.Sprintf("%s%s: no such column", prefix, k))
		}
	}
	for _, f := range fields {
		path := prefix + f.Name
		v, present := obj[f.Name]
		if !present || v == nil {
			if f.Mode == "REQUIRED" {
				problems = append(problems, path+": REQUIRED column missing or null")
			}
			continue
		}
		if f.Mode == "REPEATED" {
			items, ok := v.([]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: REPEATED column holds %T", path, v))
				continue
			}
			for i, item := range items {
				p := fmt.Sprintf("%s[%d]", path, i)
				if item == nil {
					problems = append(problems, p+": null in a REPEATED column")
					continue
				}
				problems = append(problems, valueProblems(f, item, p)...)
			}
			continue
		}
		problems = append(problems, valueProblems(f, v, path)...)
	}
	return problems
}

// numeric is BigQuery NUMERIC's range and scale: 38 digits, 9 of them after the point.
var numeric = regexp.MustCompile(`^-?[0-9]{1,29}(\.[0-9]{1,9})?$`)

// parsedStrings are the types BigQuery loads from a JSON string it parses: how, and what a
// value it cannot parse is not.
var parsedStrings = map[string]struct {
	parse func(string) error
	not   string
}{
	"TIMESTAMP": {func(s string) error { _, err := time.Parse(time.RFC3339Nano, s); return err }, "not an RFC 3339 time from year 1 to 9999"},
	"DATE":      {func(s string) error { _, err := time.Parse(time.DateOnly, s); return err }, "not a YYYY-MM-DD date"},
	"BYTES":     {func(s string) error { _, err := base64.StdEncoding.DecodeString(s); return err }, "not base64"},
}

func valueProblems(f TableField, v any, path string) []string {
	bad := func(why string) []string { return []string{fmt.Sprintf("%s: %s: %v (%T)", path, why, v, v)} }
	str := func() (string, bool) { s, ok := v.(string); return s, ok }
	switch f.Type {
	case "STRING":
		if s, ok := str(); !ok || !utf8.ValidString(s) {
			return bad("not a UTF-8 string")
		}
	case "INT64":
		n, ok := v.(json.Number)
		if !ok {
			return bad("not a number")
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return bad("not a 64-bit integer")
		}
	case "FLOAT64":
		if _, ok := v.(json.Number); !ok {
			return bad("not a number")
		}
	case "BOOL":
		if _, ok := v.(bool); !ok {
			return bad("not a bool")
		}
	case "NUMERIC":
		s, ok := str()
		if n, isNum := v.(json.Number); isNum {
			s, ok = string(n), true
		}
		if !ok || !numeric.MatchString(s) {
			return bad("not a NUMERIC (at most 29 digits before the point and 9 after)")
		}
	case "TIMESTAMP", "DATE", "BYTES":
		s, ok := str()
		if !ok {
			return bad("not a string")
		}
		if p := parsedStrings[f.Type]; p.parse(s) != nil {
			return bad(p.not)
		}
	case "JSON":
		// Any JSON value loads into a JSON column.
	case "RECORD":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("not an object")
		}
		return recordProblems(f.Fields, m, path+".")
	default:
		return bad("unhandled type " + f.Type)
	}
	return nil
}
