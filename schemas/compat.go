package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// Compatibility rules a new version of the event envelope must keep (Compatible).
const (
	RuleRemovedField = "removed field"
	RuleRetypedField = "retyped field"
	RuleNewRequired  = "new required field"
	RuleNarrowedEnum = "narrowed enum"
)

// compatSchema is the part of a JSON Schema the rules read.
type compatSchema struct {
	Type       any                     `json:"type"`
	Required   []string                `json:"required"`
	Properties map[string]compatSchema `json:"properties"`
	Enum       []any                   `json:"enum"`
	Const      any                     `json:"const"`
	HasConst   bool                    `json:"-"`
}

func (c *compatSchema) UnmarshalJSON(b []byte) error {
	type plain compatSchema
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	_, c.HasConst = keys["const"]
	return nil
}

// values is what the schema allows as a closed set (enum, or const as a one-value enum); nil
// means any value of the type.
func (c compatSchema) values() []any {
	if c.HasConst {
		return []any{c.Const}
	}
	return c.Enum
}

// Compatible reports whether the JSON Schema next is backward compatible with prev: every
// document prev accepts means the same in next. It rejects, naming each field and rule: a
// property prev defines that next does not (removed field), a property whose type changed
// (retyped field), a field next requires that prev did not (new required field), and a value
// of prev's enum or const next no longer allows (narrowed enum). Nested objects are checked
// the same way.
func Compatible(prev, next []byte) error {
	var p, n compatSchema
	if err := json.Unmarshal(prev, &p); err != nil {
		return fmt.Errorf("previous schema: %w", err)
	}
	if err := json.Unmarshal(next, &n); err != nil {
		return fmt.Errorf("new schema: %w", err)
	}
	return errors.Join(compatible(p, n, "")...)
}

func compatible(p, n compatSchema, path string) []error {
	var errs []error
	bad := func(rule, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s: %s", rule, field, fmt.Sprintf(format, args...)))
	}
	name := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	for _, k := range slices.Sorted(maps.Keys(p.Properties)) {
		pp := p.Properties[k]
		np, ok := n.Properties[k]
		if !ok {
			bad(RuleRemovedField, name(k), "defined before, not any more")
			continue
		}
		if !reflect.DeepEqual(pp.Type, np.Type) {
			bad(RuleRetypedField, name(k), "type %v, was %v", np.Type, pp.Type)
			continue
		}
		if pv, nv := pp.values(), np.values(); pv != nil {
			for _, v := range pv {
				if nv == nil || slices.ContainsFunc(nv, func(x any) bool { return reflect.DeepEqual(x, v) }) {
					continue
				}
				bad(RuleNarrowedEnum, name(k), "%v no longer allowed", v)
			}
		}
		errs = append(errs, compatible(pp, np, name(k))...)
	}
	for _, k := range n.Required {
		if !slices.Contains(p.Required, k) {
			bad(RuleNewRequired, name(k), "required now, optional before")
		}
	}
	return errs
}
