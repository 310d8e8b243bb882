package options

import (
	"bytes"
	"fmt"
	"strings"
)

// MarkdownTable renders specs as a README table: flag, type, default and a
// description made of the help text, the example and markers for options
// required in templates or only meaningful in local runs.
func MarkdownTable(specs []Spec) []byte {
	var b bytes.Buffer
	b.WriteString("| Flag | Type | Default | Description |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, s := range specs {
		var desc []string
		switch {
		case !s.Templated:
			desc = append(desc, "*Local runs only; not a template parameter.*")
		case s.Required == RequiredAlways:
			desc = append(desc, "**Required.**")
		case s.Required == RequiredInTemplate:
			desc = append(desc, "**Required in the template.**")
		}
		desc = append(desc, text(s.Help))
		if s.Example != "" {
			desc = append(desc, "Example: `"+s.Example+"`.")
		}
		fmt.Fprintf(&b, "| `--%s` | %s | %s | %s |\n",
			s.Name, s.Type, code(s.Default), cell(strings.Join(desc, " ")))
	}
	return b.Bytes()
}

// code renders a default value, making the empty string visible.
func code(s string) string {
	if s == "" {
		return `""`
	}
	return "`" + cell(s) + "`"
}

// text escapes plain text for Markdown: GitHub would take <project> for an
// HTML tag and drop it.
func text(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cell keeps text inside one table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// ReplaceBetweenMarkers returns doc with the lines between the line holding
// begin and the line holding end replaced by content; the marker lines stay.
// Each marker must occur exactly once, begin before end.
func ReplaceBetweenMarkers(doc []byte, begin, end string, content []byte) ([]byte, error) {
	if begin == "" || end == "" {
		return nil, fmt.Errorf("options: empty marker")
	}
	for _, m := range []string{begin, end} {
		if n := bytes.Count(doc, []byte(m)); n != 1 {
			return nil, fmt.Errorf("options: marker %q occurs %d times, want once", m, n)
		}
	}
	b := bytes.Index(doc, []byte(begin))
	e := bytes.Index(doc, []byte(end))
	if e < b+len(begin) {
		return nil, fmt.Errorf("options: marker %q comes before %q", end, begin)
	}
	// The region starts after the begin marker's line and ends at the start
	// of the end marker's line.
	start := b + len(begin)
	if nl := bytes.IndexByte(doc[start:e], '\n'); nl >= 0 {
		start += nl + 1
	} else {
		return nil, fmt.Errorf("options: markers %q and %q must be on separate lines", begin, end)
	}
	stop := bytes.LastIndexByte(doc[:e], '\n') + 1

	out := make([]byte, 0, len(doc)+len(content)+1)
	out = append(out, doc[:start]...)
	out = append(out, content...)
	if len(content) > 0 && content[len(content)-1] != '\n' {
		out = append(out, '\n')
	}
	out = append(out, doc[stop:]...)
	return out, nil
}
