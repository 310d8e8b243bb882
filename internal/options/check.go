package options

import "fmt"

// FlagError is an invalid option, named by its flag so the user knows what
// to fix.
type FlagError struct {
	Flag string // flag name without dashes
	Msg  string // what is wrong, e.g. "must be > 0"
}

func (e *FlagError) Error() string { return "invalid --" + e.Flag + ": " + e.Msg }

// Rule checks one option beyond its tags. It returns what is wrong with the
// value, phrased to follow the flag name ("must be > 0"), or "" when it is fine.
type Rule func() string

// AddRules adds more to rules; where both have a rule for a flag, the first failing one wins.
func AddRules(rules, more map[string]Rule) {
	for flag, rule := range more {
		if first, ok := rules[flag]; ok {
			rules[flag] = func() string {
				if msg := first(); msg != "" {
					return msg
				}
				return rule()
			}
			continue
		}
		rules[flag] = rule
	}
}

// Validate checks opts (a tagged struct or a pointer to one) in field order:
// for each option first its tags (required, regex), then its rule from rules,
// keyed by flag name. It returns a *FlagError for the first bad option.
func Validate(opts any, rules map[string]Rule) error {
	specs, err := Specs(opts)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(specs))
	for _, s := range specs {
		known[s.Name] = true
	}
	for name := range rules {
		if !known[name] {
			// A typo here would silently skip a check.
			return fmt.Errorf("options: rule for unknown flag %q", name)
		}
	}
	for _, s := range specs {
		if err := checkSpec(s); err != nil {
			return err
		}
		if rule := rules[s.Name]; rule != nil {
			if msg := rule(); msg != "" {
				return &FlagError{Flag: s.Name, Msg: msg}
			}
		}
	}
	return nil
}

// CheckValues checks the values of specs (as returned by Specs) against their
// tags: an option required in every run is set, and every non-empty string
// value matches its regex. It returns a *FlagError for the first bad option.
func CheckValues(specs []Spec) error {
	for _, s := range specs {
		if err := checkSpec(s); err != nil {
			return err
		}
	}
	return nil
}

func checkSpec(s Spec) error {
	if s.Value == "" {
		if s.Required == RequiredAlways {
			return &FlagError{Flag: s.Name, Msg: "is required"}
		}
		return nil
	}
	// Typed values were parsed already; their regex only documents syntax.
	if s.Type != String || s.Regex == "" {
		return nil
	}
	re, err := compileWhole(s.Regex)
	if err != nil {
		return fmt.Errorf("options: flag %q: regex: %w", s.Name, err)
	}
	if !re.MatchString(s.Value) {
		msg := fmt.Sprintf("%q does not match %s", s.Value, s.Regex)
		if s.Example != "" {
			msg += fmt.Sprintf(" (for example %s)", s.Example)
		}
		return &FlagError{Flag: s.Name, Msg: msg}
	}
	return nil
}

// Number is the types the rule helpers compare; time.Duration is one.
type Number interface {
	~int | ~int64 | ~float64
}

// Positive is a Rule body: v must be > 0.
func Positive[T Number](v T) string {
	if v > 0 {
		return ""
	}
	return "must be > 0"
}

// NonNegative is a Rule body: v must be >= 0.
func NonNegative[T Number](v T) string {
	if v >= 0 {
		return ""
	}
	return "must be >= 0"
}

// Between is a Rule body: lo <= v <= hi.
func Between[T Number](v, lo, hi T) string {
	if lo <= v && v <= hi {
		return ""
	}
	// %v prints a time.Duration through its String method: "24h0m0s".
	return fmt.Sprintf("must be between %v and %v", lo, hi)
}
