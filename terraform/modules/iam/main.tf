# The workers' service account and exactly what the pipelines need, each grant
# on the one resource it is for:
#
# - roles/dataflow.worker on the project (the only project-wide role);
# - pubsub.subscriber and pubsub.viewer on the input subscription only;
# - pubsub.publisher and pubsub.viewer on the alerts and dead-letter topics only;
# - bigquery.dataEditor on the dataset only (Storage Write appends and
#   upserts and, with createTables, tables.insert; no bigquery.jobUser: the
#   pipelines run no jobs);
# - on the lake bucket: read under the read prefixes (reference data, the
#   archive the backfill replays) and create only under the write prefixes,
#   never replace or delete (objectCreator holds no delete);
# - objectAdmin on the scratch bucket (temp and staging), whose files Dataflow
#   creates and deletes;
# - read on the template spec objects only.
#
# The launcher also pulls the template image with this identity: grant it
# roles/artifactregistry.reader on that repository if it is not public.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

resource "google_service_account" "worker" {
  project      = var.project
  account_id   = var.account_id
  display_name = "Tributary pipeline workers"
}

locals {
  worker       = "serviceAccount:${google_service_account.worker.email}"
  lake_objects = "projects/_/buckets/${var.lake_bucket}/objects/"
  # [bucket, object] of each gs://<bucket>/<object> template spec.
  templates = { for p in var.template_specs : p => regex("^gs://([^/]+)/(.+)$", p) }
}

resource "google_project_iam_member" "worker" {
  project = var.project
  role    = "roles/dataflow.worker"
  member  = local.worker
}

resource "google_pubsub_subscription_iam_member" "worker" {
  for_each     = toset(["roles/pubsub.subscriber", "roles/pubsub.viewer"])
  project      = var.project
  subscription = var.subscription_name
  role         = each.key
  member       = local.worker
}

resource "google_pubsub_topic_iam_member" "worker" {
  for_each = {
    for pair in setproduct(var.publish_topics, ["roles/pubsub.publisher", "roles/pubsub.viewer"]) :
    "${pair[0]} ${pair[1]}" => { topic = pair[0], role = pair[1] }
  }
  project = var.project
  topic   = each.value.topic
  role    = each.value.role
  member  = local.worker
}

resource "google_bigquery_dataset_iam_member" "worker" {
  project    = var.project
  dataset_id = var.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.worker
}

# Reads under the read prefixes; listing is a bucket-level check, hence the
# bucket term (a listing of the whole bucket returns only names, and the
# backfill lists only its partitions' prefixes).
resource "google_storage_bucket_iam_member" "worker_lake_read" {
  bucket = var.lake_bucket
  role   = "roles/storage.objectViewer"
  member = local.worker

  condition {
    title       = "pipeline-reads"
    description = "Read objects only under the pipeline's read prefixes."
    expression = join(" || ", concat(
      ["resource.type == \"storage.googleapis.com/Bucket\""],
      [for p in var.read_prefixes : "resource.name.startsWith(\"${local.lake_objects}${p}\")"],
    ))
  }
}

resource "google_storage_bucket_iam_member" "worker_lake_create" {
  bucket = var.lake_bucket
  role   = "roles/storage.objectCreator"
  member = local.worker

  condition {
    title       = "pipeline-outputs"
    description = "Create objects only under the pipeline's output prefixes."
    expression  = join(" || ", [for p in var.write_prefixes : "resource.name.startsWith(\"${local.lake_objects}${p}\")"])
  }
}

resource "google_storage_bucket_iam_member" "worker_scratch" {
  bucket = var.scratch_bucket
  role   = "roles/storage.objectAdmin"
  member = local.worker
}

resource "google_storage_bucket_iam_member" "worker_template" {
  for_each = local.templates
  bucket   = each.value[0]
  role     = "roles/storage.objectViewer"
  member   = local.worker

  condition {
    title       = "template-spec"
    description = "Read only the Flex Template spec."
    expression  = "resource.name == \"projects/_/buckets/${each.value[0]}/objects/${each.value[1]}\""
  }
}
