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


# One table per entry of local.tables, the layouts generated into tables.tf from
# transforms/bigquery/layouts.go (the sink's --createTables uses the same).
resource "google_bigquery_table" "this" {
  for_each = local.tables

  project             = var.project
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = each.key
  description         = each.value.description
  schema              = file("${local.schema_dir}/${each.key}.json")
  labels              = var.labels
  deletion_protection = var.deletion_protection
  max_staleness       = each.value.max_staleness
  clustering          = each.value.clustering

  time_partitioning {
    type          = "DAY"
    field         = each.value.partition
    expiration_ms = local.expiration_ms
  }

  table_constraints {
    primary_key {
      columns = each.value.primary_key
    }
  }
}

# Each table was once a resource of its own: these move an applied state to the
# instances above instead of destroying and recreating the tables.

moved {
  from = google_bigquery_table.events
  to   = google_bigquery_table.this["events"]
}

moved {
  from = google_bigquery_table.product_metrics
  to   = google_bigquery_table.this["product_metrics"]
}

moved {
  from = google_bigquery_table.trending_products
  to   = google_bigquery_table.this["trending_products"]
}

moved {
  from = google_bigquery_table.user_sessions
  to   = google_bigquery_table.this["user_sessions"]
}

moved {
  from = google_bigquery_table.fraud_alerts
  to   = google_bigquery_table.this["fraud_alerts"]
}

moved {
  from = google_bigquery_table.dead_letters
  to   = google_bigquery_table.this["dead_letters"]
}
