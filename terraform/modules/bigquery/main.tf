# The dataset and tables the pipelines write. Table schemas are the JSON files
# under schemas/bigquery, shared with the Go code and its tests.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

locals {
  schema_dir    = coalesce(var.schema_dir, "${path.module}/../../../schemas/bigquery")
  expiration_ms = var.partition_expiration_days == null ? null : var.partition_expiration_days * 24 * 60 * 60 * 1000
}

resource "google_bigquery_dataset" "this" {
  project     = var.project
  dataset_id  = var.dataset_id
  location    = var.location
  description = "Tributary: commerce events, windowed metrics and dead letters."
  labels      = var.labels
}

# The tables are in tables.tf, generated from transforms/bigquery/layouts.go.
