package options

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"time"
)

// Type is the kind of value an option holds.
type Type string

// The supported option types, named as the README shows them.
const (
	String   Type = "string"
	Bool     Type = "bool"
	Int      Type = "int"
	Int64    Type = "int64"
	Float64  Type = "float64"
	Duration Type = "duration"
)

// Requirement says when an option must be non-empty.
type Requirement string

const (
	// Optional options may always be left at their default.
	Optional Requirement = ""
	// RequiredInTemplate options may be empty in local runs (where empty
	// selects a local stand-in) but must be set when launched as a template.
	RequiredInTemplate Requirement = "template"
	// RequiredAlways options must be set in every run.
	RequiredAlways Requirement = "true"
)

// Spec is the parsed description of one option.
type Spec struct {
	Field     string // Go field name
	Name      string // flag and template parameter name
	Type      Type
	Default   string // default in flag syntax as tagged; the zero value's text when untagged
	Value     string // the field's current value in flag syntax (filled by Specs)
	Label     string
	Help      string
	Example   string
	Regex     string // the tag's regex, or the syntax of the type for non-strings
	Group     string
	Param     string // Flex Template paramType; empty means TEXT
	Required  Requirement
	Templated bool // false for template:"-" (local-run-only) options
	// NoVariable is true for terraform:"-": a template parameter the Terraform module sets
	// itself (the scheduler's relative range), so it has no variable.
	NoVariable bool
}

// OptionalInTemplate reports whether a template launch may omit the option.
func (s Spec) OptionalInTemplate() bool { return s.Required == Optional }

// typeRegex is the syntax each non-string type accepts, so that templates and
// Terraform reject a malformed value before a job is launched.
var typeRegex = map[Type]string{
	Bool:     `^(true|false)$`,
	Int:      `^-?[0-9]+$`,
	Int64:    `^-?[0-9]+$`,
	Float64:  `^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$`,
	Duration: `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`,
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	nameRegex    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*$`)
	paramRegex   = regexp.MustCompile(`^[A-Z][A-Z_]*$`)
)

// field is a Spec plus where its value lives in the struct.
type field struct {
	Spec
	index []int
	match *regexp.Regexp // whole-value match of Regex; nil when Regex is empty
}

// Specs returns the options of opts (a struct or a pointer to one) in field
// order, with their current values.
func Specs(opts any) ([]Spec, error) {
	v, err := structValue(opts, false)
	if err != nil {
		return nil, err
	}
	fields, err := parseFields(v.Type())
	if err != nil {
		return nil, err
	}
	specs := make([]Spec, len(fields))
	for i, f := range fields {
		fv, err := v.FieldByIndexErr(f.index)
		if err != nil {
			return nil, fmt.Errorf("options: field %s: %w", f.Field, err)
		}
		f.Value = format(fv)
		specs[i] = f.Spec
	}
	return specs, nil
}

// structValue unwraps opts into the struct it holds or points to.
func structValue(opts any, needPointer bool) (reflect.Value, error) {
	v := reflect.ValueOf(opts)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}, fmt.Errorf("options: nil %T", opts)
		}
		v = v.Elem()
	} else if needPointer {
		return reflect.Value{}, fmt.Errorf("options: need a pointer to a struct, got %T", opts)
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("options: need a struct, got %T", opts)
	}
	return v, nil
}

// parseFields reads and checks the tags of t. The checks catch documentation
// drift at generation time: a default or example the regex rejects, an
// undocumented option, a duplicated name.
func parseFields(t reflect.Type) ([]field, error) {
	var fields []field
	seen := map[string]string{}
	for _, sf := range reflect.VisibleFields(t) {
		name, ok := sf.Tag.Lookup("flag")
		if !ok || sf.Anonymous || !sf.IsExported() {
			continue
		}
		f, err := parseField(sf, name)
		if err != nil {
			return nil, fmt.Errorf("options: %s.%s: %w", t.Name(), sf.Name, err)
		}
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("options: %s.%s: flag %q already used by %s", t.Name(), sf.Name, name, other)
		}
		seen[name] = sf.Name
		fields = append(fields, f)
	}
	return fields, nil
}

func parseField(sf reflect.StructField, name string) (field, error) {
	tag := sf.Tag
	f := field{
		Spec: Spec{
			Field:      sf.Name,
			Name:       name,
			Label:      tag.Get("label"),
			Help:       tag.Get("help"),
			Example:    tag.Get("example"),
			Regex:      tag.Get("regex"),
			Group:      tag.Get("group"),
			Param:      tag.Get("param"),
			Required:   Requirement(tag.Get("required")),
			Templated:  tag.Get("template") != "-",
			NoVariable: tag.Get("terraform") == "-",
		},
		index: sf.Index,
	}
	typ, err := typeOf(sf.Type)
	if err != nil {
		return field{}, err
	}
	f.Type = typ
	if f.Regex == "" {
		f.Regex = typeRegex[typ]
	}

	switch {
	case !nameRegex.MatchString(name):
		return field{}, fmt.Errorf("flag name %q must be camelCase letters and digits", name)
	case f.Label == "" || f.Help == "":
		return field{}, fmt.Errorf("flag %q needs a label and a help tag", name)
	case f.Param != "" && !paramRegex.MatchString(f.Param):
		return field{}, fmt.Errorf("flag %q: param %q is not a Flex Template paramType", name, f.Param)
	case f.Required != Optional && f.Required != RequiredInTemplate && f.Required != RequiredAlways:
		return field{}, fmt.Errorf("flag %q: required must be %q or %q, got %q", name, RequiredAlways, RequiredInTemplate, f.Required)
	case f.Required == RequiredInTemplate && !f.Templated:
		return field{}, fmt.Errorf("flag %q: required:%q contradicts template:\"-\"", name, RequiredInTemplate)
	}
	if t, ok := tag.Lookup("template"); ok && t != "-" {
		return field{}, fmt.Errorf("flag %q: template tag must be \"-\" or absent, got %q", name, t)
	}

	if f.Regex != "" {
		if f.match, err = compileWhole(f.Regex); err != nil {
			return field{}, fmt.Errorf("flag %q: regex: %w", name, err)
		}
	}

	zero := reflect.New(sf.Type).Elem()
	if d, ok := tag.Lookup("default"); ok {
		if err := set(zero, d); err != nil {
			return field{}, fmt.Errorf("flag %q: default %q: %w", name, d, err)
		}
		f.Default = d
	} else {
		f.Default = format(zero)
	}
	for _, c := range [...]struct{ what, s string }{{"default", f.Default}, {"example", f.Example}} {
		if c.s != "" && f.match != nil && !f.match.MatchString(c.s) {
			return field{}, fmt.Errorf("flag %q: %s %q does not match regex %s", name, c.what, c.s, f.Regex)
		}
	}
	return f, nil
}

// compileWhole compiles re so that it must match the whole value, as Java's
// Matcher.matches() does when Dataflow checks template parameters.
func compileWhole(re string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(re); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + re + `)$`)
}

func typeOf(t reflect.Type) (Type, error) {
	if t == durationType {
		return Duration, nil
	}
	switch t.Kind() {
	case reflect.String:
		return String, nil
	case reflect.Bool:
		return Bool, nil
	case reflect.Int:
		return Int, nil
	case reflect.Int64:
		return Int64, nil
	case reflect.Float64:
		return Float64, nil
	}
	return "", fmt.Errorf("unsupported type %s", t)
}

// set parses s in flag syntax into v.
func set(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(x)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// format renders v in flag syntax.
func format(v reflect.Value) string {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}
