// Package codertest pins the bytes of the coders a running job's state depends on (state,
// restriction and watermark-estimator coders): a Dataflow update in place decodes the old
// job's state with the new job's coders, so any change to an encoding must show up as a
// deliberate diff of testdata/golden/coders. Used by tests only.
package codertest

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update-golden", false, "rewrite testdata/golden/coders from this run")

// Case is one coder's fixture: a value with every field set, its encoder and its decoder.
type Case[T any] struct {
	Name   string // golden file: testdata/golden/coders/<Name>.hex
	Value  T
	Encode func(T) []byte // the coders' encoders append and cannot fail
	Decode func([]byte) (T, error)
	Opts   []cmp.Option // for unexported fields
}

// Check encodes c.Value and compares the hex with the golden file, then decodes the golden
// bytes and compares the result with c.Value. It first fails if c.Value leaves a field at
// its zero value, so a field added to the type must be added to the fixture (and so to the
// golden bytes).
func Check[T any](t *testing.T, c Case[T]) {
	t.Helper()
	if zero := zeroFields(reflect.ValueOf(c.Value), c.Name); len(zero) > 0 {
		t.Fatalf("%s: fixture leaves fields at their zero value: %s", c.Name, strings.Join(zero, ", "))
	}
	got := c.Encode(c.Value)
	path := filepath.Join(repoRoot(t), "testdata", "golden", "coders", c.Name+".hex")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-golden to create it)", err)
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if diff := cmp.Diff(hex.EncodeToString(want), hex.EncodeToString(got)); diff != "" {
		t.Errorf("%s: encoding differs from %s (-want +got):\n%s", c.Name, path, diff)
	}
	dec, err := c.Decode(want)
	if err != nil {
		t.Fatalf("%s: decoding the golden bytes: %v", c.Name, err)
	}
	if diff := cmp.Diff(c.Value, dec, c.Opts...); diff != "" {
		t.Errorf("%s: golden bytes decode differently (-want +got):\n%s", c.Name, diff)
	}
}

// zeroFields names the fields of v (recursively through structs, and the elements of
// slices) left at their zero value. Structs with only unexported fields (time.Time,
// numbers) count as set when not zero as a whole.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Struct:
		if v.IsZero() {
			return []string{path}
		}
		if !hasExported(v.Type()) {
			return nil // an opaque value (time.Time, schemas.Numeric): set as a whole
		}
		var out []string
		for i := range v.NumField() {
			out = append(out, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{path}
		}
		var out []string
		for i := range v.Len() {
			out = append(out, zeroFields(v.Index(i), path+"[]")...)
		}
		return out
	default:
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
}

func hasExported(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return true
		}
	}
	return false
}

// repoRoot is the directory holding go.mod, above the test's package directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}
