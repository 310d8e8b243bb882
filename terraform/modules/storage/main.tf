# Two buckets, so that write access can follow what the pipeline writes:
#
# - the data lake: the raw archive under archive/ (replayed by backfills), the
#   tables' NDJSON files under bq/ (without --outputDataset) and reference data
#   under reference/. Workers only ever create objects there, never replace or
#   delete them. Lifecycle rules move the archive to colder classes as it ages.
# - scratch: Dataflow's temp and staging files under tmp/ and staging/, which
#   Dataflow creates and deletes, deleted by a lifecycle rule after a few days.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

resource "google_storage_bucket" "this" {
  project                     = var.project
  name                        = var.name
  location                    = var.location
  labels                      = var.labels
  force_destroy               = var.force_destroy
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age                   = var.archive_nearline_after_days
      matches_prefix        = ["archive/"]
      matches_storage_class = ["STANDARD"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }

  lifecycle_rule {
    condition {
      age                   = var.archive_coldline_after_days
      matches_prefix        = ["archive/"]
      matches_storage_class = ["STANDARD", "NEARLINE"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "COLDLINE"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.archive_delete_after_days == null ? [] : [var.archive_delete_after_days]
    content {
      condition {
        age            = lifecycle_rule.value
        matches_prefix = ["archive/"]
      }
      action {
        type = "Delete"
      }
    }
  }

  # Windowed writes that never finished leave partial uploads behind.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}

resource "google_storage_bucket" "scratch" {
  project                     = var.project
  name                        = coalesce(var.scratch_name, "${var.name}-scratch")
  location                    = var.location
  labels                      = var.labels
  force_destroy               = var.force_destroy
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = var.scratch_delete_after_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}
