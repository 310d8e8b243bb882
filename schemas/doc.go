// Package schemas holds Tributary's versioned event envelope and BigQuery table schemas (the JSON
// files embedded here are the single source for Go, tests and Terraform) and the Go types that
// travel through the pipelines.
package schemas
