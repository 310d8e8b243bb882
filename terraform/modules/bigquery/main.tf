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

resource "google_bigquery_table" "events" {
  project             = var.project
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "events"
  description         = "Every valid, deduplicated, enriched event."
  schema              = file("${local.schema_dir}/events.json")
  labels              = var.labels
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "event_time"
    expiration_ms = local.expiration_ms
  }

  clustering = ["event_type", "product_id", "user_id"]
}

resource "google_bigquery_table" "product_metrics" {
  project             = var.project
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "product_metrics"
  description         = "Views, carts, purchases, revenue and distinct users per product and fixed window; later panes replace earlier ones."
  schema              = file("${local.schema_dir}/product_metrics.json")
  labels              = var.labels
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "window_start"
    expiration_ms = local.expiration_ms
  }

  clustering = ["product_id", "category"]

  # The CDC key --upsertAggregates writes by (transforms/bigquery/tables.go).
  max_staleness = "0-0 0 0:10:0"
  table_constraints {
    primary_key {
      columns = ["window_start", "product_id"]
    }
  }
}

resource "google_bigquery_table" "dead_letters" {
  project             = var.project
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "dead_letters"
  description         = "Messages the pipeline could not process, with the original payload, the error and the step."
  schema              = file("${local.schema_dir}/dead_letters.json")
  labels              = var.labels
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "timestamp"
    expiration_ms = local.expiration_ms
  }

  clustering = ["step", "reason"]
}

resource "google_bigquery_table" "trending_products" {
  project             = var.project
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "trending_products"
  description         = "The top products per sliding window, ranked; later panes replace earlier ones."
  schema              = file("${local.schema_dir}/trending_products.json")
  labels              = var.labels
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "window_start"
    expiration_ms = local.expiration_ms
  }
}

resource "google_bigquery_table" "user_sessions" {
  project             = var.project
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "user_sessions"
  description         = "One row per user session (gap-based), with its funnel counts and revenue."
  schema              = file("${local.schema_dir}/user_sessions.json")
  labels              = var.labels
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "session_start"
    expiration_ms = local.expiration_ms
  }

  clustering = ["user_id"]
}

resource "google_bigquery_table" "fraud_alerts" {
  project             = var.project
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "fraud_alerts"
  description         = "Fraud alerts (purchase velocity, amount anomaly) with their evidence."
  schema              = file("${local.schema_dir}/fraud_alerts.json")
  labels              = var.labels
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "detected_at"
    expiration_ms = local.expiration_ms
  }

  clustering = ["rule", "user_id"]
}
