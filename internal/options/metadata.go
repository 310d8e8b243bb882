package options

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// templateMetadata is the Flex Template metadata.json document; field order
// here is the order in the file.
type templateMetadata struct {
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Parameters  []parameterMetadata `json:"parameters"`
}

type parameterMetadata struct {
	Name         string   `json:"name"`
	GroupName    string   `json:"groupName,omitempty"`
	Label        string   `json:"label"`
	HelpText     string   `json:"helpText"`
	IsOptional   bool     `json:"isOptional"`
	Regexes      []string `json:"regexes,omitempty"`
	ParamType    string   `json:"paramType"`
	DefaultValue string   `json:"defaultValue,omitempty"`
}

// FlexTemplateMetadata renders the metadata.json of a Flex Template from the
// templated options of specs, in their order. The output is deterministic,
// indented and ends with a newline, so it can be committed and diffed.
func FlexTemplateMetadata(name, description string, specs []Spec) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("options: template name is empty")
	}
	md := templateMetadata{Name: name, Description: description, Parameters: []parameterMetadata{}}
	for _, s := range specs {
		if !s.Templated {
			continue
		}
		p := parameterMetadata{
			Name:       s.Name,
			GroupName:  s.Group,
			Label:      s.Label,
			HelpText:   helpWithExample(s),
			IsOptional: s.OptionalInTemplate(),
			ParamType:  s.Param,
		}
		if p.ParamType == "" {
			p.ParamType = "TEXT"
		}
		if s.Regex != "" {
			p.Regexes = []string{s.Regex}
		}
		// A required parameter has no default to fall back on.
		if p.IsOptional {
			p.DefaultValue = s.Default
		}
		md.Parameters = append(md.Parameters, p)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Help texts and regexes are full of <, > and &; keep them readable.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(md); err != nil {
		return nil, fmt.Errorf("options: encoding metadata for %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// helpWithExample appends the example the way Google-provided templates do.
func helpWithExample(s Spec) string {
	if s.Example == "" {
		return s.Help
	}
	return s.Help + " For example: " + s.Example + "."
}
