package schemas

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEventSchemasCompatible checks that each envelope version is backward compatible with the
// one before it (schemas.Compatible's rules), so a replay of old events still decodes.
func TestEventSchemasCompatible(t *testing.T) {
	for v := SchemaV1 + 1; v <= LatestVersion; v++ {
		t.Run(fmt.Sprintf("v%d after v%d", v, v-1), func(t *testing.T) {
			if err := Compatible(schemaOf(t, v-1), schemaOf(t, v)); err != nil {
				t.Errorf("event.v%d.schema.json is not backward compatible with v%d:\n%v", v, v-1, err)
			}
		})
	}
	if _, err := EventJSONSchemaVersion(LatestVersion + 1); err == nil {
		t.Errorf("a schema file for version %d exists: raise LatestVersion", LatestVersion+1)
	}
}

func schemaOf(t *testing.T, version int) []byte {
	t.Helper()
	b, err := EventJSONSchemaVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCompatibleRejectsBrokenCopies runs the check on testdata/schemas/broken: copies of the
// latest schema broken on purpose, one per rule, each of which must be rejected against the
// previous version for exactly its rule.
func TestCompatibleRejectsBrokenCopies(t *testing.T) {
	prev, latest := schemaOf(t, LatestVersion-1), schemaOf(t, LatestVersion)
	tests := []struct {
		file, rule, field string
	}{
		{"removed_field.json", RuleRemovedField, "device"},
		{"retyped_field.json", RuleRetypedField, "quantity"},
		{"new_required_field.json", RuleNewRequired, "channel"},
		{"narrowed_enum.json", RuleNarrowedEnum, "event_type"},
	}
	files, err := filepath.Glob("../testdata/schemas/broken/*.json")
	if err != nil || len(files) != len(tests) {
		t.Fatalf("broken copies %v (%v), want one per rule: %d", files, err, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			next, err := os.ReadFile(filepath.Join("../testdata/schemas/broken", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			err = Compatible(prev, next)
			if err == nil {
				t.Fatalf("%s accepted, want %s %s rejected", tt.file, tt.rule, tt.field)
			}
			if want := tt.rule + " " + tt.field + ":"; !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %q, want exactly one problem starting %q", tt.file, err, want)
			}
			// The same copy against the latest schema: the broken one is what differs.
			if err := Compatible(latest, next); err == nil {
				t.Errorf("%s accepted against the latest schema", tt.file)
			}
		})
	}
}

func TestCompatibleNested(t *testing.T) {
	tests := []struct {
		name, prev, next, want string
	}{
		{"nested removal", `{"properties":{"device":{"type":"object","properties":{"os":{"type":"string"}}}}}`,
			`{"properties":{"device":{"type":"object","properties":{}}}}`, "removed field device.os: defined before, not any more"},
		{"const narrowed", `{"properties":{"v":{"type":"integer","enum":[1,2]}}}`,
			`{"properties":{"v":{"type":"integer","const":2}}}`, "narrowed enum v: 1 no longer allowed"},
		{"enum dropped is wider", `{"properties":{"v":{"type":"integer","const":1}}}`, `{"properties":{"v":{"type":"integer"}}}`, ""},
		{"new optional field", `{"properties":{}}`, `{"properties":{"x":{"type":"string"}}}`, ""},
		{"required dropped", `{"required":["x"],"properties":{"x":{"type":"string"}}}`, `{"properties":{"x":{"type":"string"}}}`, ""},
		{"not JSON", `{}`, `[`, "new schema: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Compatible([]byte(tt.prev), []byte(tt.next))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Compatible = %q, want %q", got, tt.want)
			}
		})
	}
}
