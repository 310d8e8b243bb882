# The data-lake bucket: the raw archive under archive/ (replayed by backfills),
# reference data under reference/, Dataflow temp and staging files under tmp/
# and staging/. Lifecycle rules move the archive to colder classes as it ages
# and delete scratch files.

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

  lifecycle_rule {
    condition {
      age            = var.scratch_delete_after_days
      matches_prefix = ["tmp/", "staging/"]
    }
    action {
      type = "Delete"
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
