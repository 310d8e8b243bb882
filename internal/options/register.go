package options

import (
	"flag"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Register defines one flag on fs per option of opts, a pointer to a tagged
// struct. Each flag is bound to its field, which is set to the tagged default.
func Register(fs *flag.FlagSet, opts any) error {
	v, err := structValue(opts, true)
	if err != nil {
		return err
	}
	fields, err := parseFields(v.Type())
	if err != nil {
		return err
	}
	for _, f := range fields {
		fv, err := v.FieldByIndexErr(f.index)
		if err != nil {
			return fmt.Errorf("options: field %s: %w", f.Field, err)
		}
		if err := set(fv, f.Default); err != nil {
			return fmt.Errorf("options: flag %q: default %q: %w", f.Name, f.Default, err)
		}
		// The flag package treats a `quoted` word in the usage as the name of
		// the value; plain quotes keep the help text literal.
		usage := strings.ReplaceAll(f.Help, "`", "'")
		if !f.Templated {
			usage += " (local runs only)"
		}
		// The typed flag constructors give the nicest -help output; named
		// types (type Mode string) fall back to a reflective flag.Value.
		switch p := fv.Addr().Interface().(type) {
		case *string:
			fs.StringVar(p, f.Name, *p, usage)
		case *bool:
			fs.BoolVar(p, f.Name, *p, usage)
		case *int:
			fs.IntVar(p, f.Name, *p, usage)
		case *int64:
			fs.Int64Var(p, f.Name, *p, usage)
		case *float64:
			fs.Float64Var(p, f.Name, *p, usage)
		case *time.Duration:
			fs.DurationVar(p, f.Name, *p, usage)
		default:
			fs.Var(&value{v: fv, isBool: f.Type == Bool}, f.Name, usage)
		}
	}
	return nil
}

// value is a flag.Value bound to a field of a named type.
type value struct {
	v      reflect.Value
	isBool bool
}

func (x *value) Set(s string) error { return set(x.v, s) }

func (x *value) String() string {
	if x == nil || !x.v.IsValid() {
		// flag.PrintDefaults calls String on a zero value to detect zero defaults.
		return ""
	}
	return format(x.v)
}

// IsBoolFlag lets a bool option be given as a bare --name.
func (x *value) IsBoolFlag() bool { return x.isBool }
