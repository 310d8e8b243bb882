// Package options turns one tagged options struct per pipeline into its
// command-line flags, its Flex Template metadata.json, its README parameter
// table and its Terraform variables, so that the four cannot drift apart.
//
// Only exported fields with a flag tag are options; promoted fields of
// embedded structs count too, so pipelines can share a common block. The tag
// contract:
//
//	flag:"inputSubscription"    flag and template parameter name (camelCase; required)
//	default:"10m"               default in flag syntax; absent means the zero value
//	label:"Input subscription"  short title (required)
//	help:"..."                  one or two sentences (required)
//	example:"projects/p/..."    an example value; must match regex
//	regex:"^...$"               syntax of the value (strings); typed fields get one from their type
//	group:"Source"              Flex Template UI group
//	param:"PUBSUB_SUBSCRIPTION" Flex Template paramType; absent means TEXT
//	required:"true"             must be set in every run
//	required:"template"         may be empty locally, must be set when launched as a template
//	template:"-"                local-run-only: a flag and in the README, not a template parameter
//
// Supported field types are string, bool, int, int64, float64 and
// time.Duration (Go duration syntax such as 90s or 1h30m).
//
// Regexes are matched against the whole value, as Dataflow does when it
// validates template parameters.
package options
