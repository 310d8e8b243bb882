package options

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

var hclIdent = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TerraformVariables renders, for the templated options of specs (but terraform:"-" ones), one HCL
// string variable each (Dataflow passes every template parameter as a
// string) and a local map <pipeline>_parameters from parameter name to
// variable for google_dataflow_flex_template_job's parameters argument.
// Optional variables default to null and are dropped from the map, so the
// pipeline's own defaults apply; a regex becomes a validation block so a bad
// value fails at plan time rather than at launch. The output is formatted as
// terraform fmt formats it.
func TerraformVariables(pipeline string, specs []Spec) ([]byte, error) {
	if !hclIdent.MatchString(pipeline) {
		return nil, fmt.Errorf("options: pipeline name %q is not a Terraform identifier", pipeline)
	}
	var b bytes.Buffer
	var names, vars []string
	seen := map[string]string{}
	for _, s := range specs {
		if !s.Templated || s.NoVariable {
			continue
		}
		v := SnakeCase(s.Name)
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("options: flags %q and %q both map to variable %q", other, s.Name, v)
		}
		seen[v] = s.Name
		names = append(names, s.Name)
		vars = append(vars, v)

		desc := helpWithExample(s)
		if s.OptionalInTemplate() {
			desc += fmt.Sprintf(" Null keeps the pipeline default (%s).", defaultText(s.Default))
		}
		fmt.Fprintf(&b, "variable %q {\n", v)
		fmt.Fprintf(&b, "  type        = string\n")
		fmt.Fprintf(&b, "  description = %s\n", hclString(desc))
		if s.OptionalInTemplate() {
			fmt.Fprintf(&b, "  default     = null\n")
		}
		if s.Regex != "" {
			// regex() matches anywhere; anchor it to match the whole value as
			// Dataflow does.
			cond := fmt.Sprintf("can(regex(%s, var.%s))", hclString(`^(?:`+s.Regex+`)$`), v)
			if s.OptionalInTemplate() {
				cond = fmt.Sprintf("var.%s == null || %s", v, cond)
			}
			msg := fmt.Sprintf("The %s variable must match %s", v, s.Regex)
			if s.Example != "" {
				msg += ", for example " + s.Example
			}
			fmt.Fprintf(&b, "\n  validation {\n")
			fmt.Fprintf(&b, "    condition     = %s\n", cond)
			fmt.Fprintf(&b, "    error_message = %s\n", hclString(msg+"."))
			fmt.Fprintf(&b, "  }\n")
		}
		fmt.Fprintf(&b, "}\n\n")
	}

	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	fmt.Fprintf(&b, "locals {\n")
	fmt.Fprintf(&b, "  # Unset (null) parameters are left out so that the pipeline defaults apply.\n")
	fmt.Fprintf(&b, "  %s_parameters = {\n", pipeline)
	fmt.Fprintf(&b, "    for name, value in {\n")
	for i, n := range names {
		fmt.Fprintf(&b, "      %-*s = var.%s\n", width, n, vars[i])
	}
	fmt.Fprintf(&b, "    } : name => value if value != null\n")
	fmt.Fprintf(&b, "  }\n")
	fmt.Fprintf(&b, "}\n")
	return b.Bytes(), nil
}

func defaultText(d string) string {
	if d == "" {
		return "empty"
	}
	return d
}

// SnakeCase turns a camelCase flag name into a Terraform-style name:
// inputSubscription → input_subscription, outputBQTable → output_bq_table.
func SnakeCase(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// hclString quotes s as an HCL string literal, escaping template sequences
// so that help text is never interpolated.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '"':
			b.WriteString(`\"`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
