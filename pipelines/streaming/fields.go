package streaming

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/transforms/fraud"
	"github.com/tributary-dev/tributary/transforms/privacy"
	"github.com/tributary-dev/tributary/transforms/sessions"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

// flagOf maps each transform's Config fields to the flags of Options they come from: the one
// place where the transforms' field names meet this pipeline's flag names. Transforms name
// their fields in errors; fieldRules and flagError turn those into *options.FlagError.
var flagOf = map[string]map[string]string{
	"windowing": {
		"EarlyFiringDelay": "earlyFiringDelay", "LateFirings": "lateFirings", "AllowedLateness": "allowedLateness",
		"Accumulation": "accumulation", "WindowDuration": "windowDuration", "TrendingWindow": "trendingWindow",
		"TrendingPeriod": "trendingPeriod", "TrendingTopN": "trendingTopN",
		"Runner": "runner", // Beam's own flag, named only in messages
	},
	"sessions": {"Gap": "sessionGap", "AllowedLateness": "allowedLateness", "MaxDuration": "maxSessionDuration"},
	"fraud": {
		"VelocityCount": "fraudVelocityCount", "VelocityWindow": "fraudVelocityWindow",
		"AnomalyMultiplier": "fraudAnomalyMultiplier", "AnomalyMinPurchases": "fraudAnomalyMinPurchases",
		"StateTTL": "fraudStateTtl", "AllowedLateness": "allowedLateness",
	},
	"privacy": {"Enabled": "tokenizeUserIds", "KeyFile": "tokenKeyFile", "KeyEnv": "tokenKeyEnv"},
}

// fieldRules adds the rules of pkg's fields (keyed by field) to rules (keyed by flag), with
// the fields their messages mention renamed to flags. A field without a flag is a bug here.
func fieldRules(rules map[string]options.Rule, pkg string, fields map[string]func() string) error {
	for field, rule := range fields {
		flag, ok := flagOf[pkg][field]
		if !ok {
			return fmt.Errorf("streaming: no flag for %s.%s", pkg, field)
		}
		rules[flag] = func() string { return flagNames(pkg, rule()) }
	}
	return nil
}

// flagError turns a transform's field error into the *options.FlagError naming its flag, and
// returns any other error as it is.
func flagError(err error) error {
	var pkg, field, msg string
	var (
		we *windowing.FieldError
		se *sessions.FieldError
		fe *fraud.FieldError
		pe *privacy.FieldError
	)
	switch {
	case errors.As(err, &we):
		pkg, field, msg = "windowing", we.Field, we.Msg
	case errors.As(err, &se):
		pkg, field, msg = "sessions", se.Field, se.Msg
	case errors.As(err, &fe):
		pkg, field, msg = "fraud", fe.Field, fe.Msg
	case errors.As(err, &pe):
		pkg, field, msg = "privacy", pe.Field, pe.Msg
	default:
		return err
	}
	flag, ok := flagOf[pkg][field]
	if !ok {
		return err
	}
	return &options.FlagError{Flag: flag, Msg: flagNames(pkg, msg)}
}

// quoted matches a Go-quoted string in a message: a value the user gave, never renamed.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// flagNames renames the fields of pkg that msg mentions (e.g. "at most TrendingWindow") to
// their flags ("at most --trendingWindow"), outside quoted values.
func flagNames(pkg, msg string) string {
	if msg == "" {
		return ""
	}
	var names []string
	for field := range flagOf[pkg] {
		names = append(names, regexp.QuoteMeta(field))
	}
	word := regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
	rename := func(s string) string {
		return word.ReplaceAllStringFunc(s, func(f string) string { return "--" + flagOf[pkg][f] })
	}
	var b strings.Builder
	last := 0
	for _, q := range quoted.FindAllStringIndex(msg, -1) {
		b.WriteString(rename(msg[last:q[0]]))
		b.WriteString(msg[q[0]:q[1]])
		last = q[1]
	}
	b.WriteString(rename(msg[last:]))
	return b.String()
}
