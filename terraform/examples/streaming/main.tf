# Everything the streaming pipeline needs in one project: the events topic and
# subscription, the BigQuery tables, the data-lake bucket with the reference
# data, a worker service account, and the Flex Template job.
#
# Build the template first (templates/README.md), then:
#
#   terraform init
#   terraform apply -var project=my-project -var bucket=my-bucket \
#     -var container_spec_gcs_path=gs://my-bucket/templates/streaming.json

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 5.0"
    }
  }
}

variable "project" {
  type        = string
  description = "Project to deploy into."
}

variable "region" {
  type        = string
  description = "Region of the job, the bucket and the dataset."
  default     = "europe-west1"
}

variable "bucket" {
  type        = string
  description = "Name of the data-lake bucket to create."
}

variable "container_spec_gcs_path" {
  type        = string
  description = "Template spec written by gcloud dataflow flex-template build."
}

provider "google" {
  project = var.project
  region  = var.region
}

provider "google-beta" {
  project = var.project
  region  = var.region
}

locals {
  labels        = { app = "tributary" }
  reference_dir = "${path.module}/../../../testdata/reference"
}

module "pubsub" {
  source  = "../../modules/pubsub"
  project = var.project
  labels  = local.labels
}

module "bigquery" {
  source              = "../../modules/bigquery"
  project             = var.project
  location            = var.region
  labels              = local.labels
  deletion_protection = false
}

module "storage" {
  source   = "../../modules/storage"
  project  = var.project
  name     = var.bucket
  location = var.region
  labels   = local.labels
}

# Workers read the reference data from the bucket: the copy baked into the
# template image is only visible to the launcher.
resource "google_storage_bucket_object" "reference" {
  for_each = toset(["products.csv", "currency_rates.csv"])
  bucket   = module.storage.name
  name     = "reference/${each.key}"
  source   = "${local.reference_dir}/${each.key}"
}

resource "google_service_account" "worker" {
  project      = var.project
  account_id   = "tributary-streaming"
  display_name = "Tributary streaming pipeline workers"
}

locals {
  worker = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_project_iam_member" "worker" {
  for_each = toset(["roles/dataflow.worker", "roles/bigquery.jobUser"])
  project  = var.project
  role     = each.key
  member   = local.worker
}

resource "google_pubsub_subscription_iam_member" "worker" {
  for_each     = toset(["roles/pubsub.subscriber", "roles/pubsub.viewer"])
  project      = var.project
  subscription = module.pubsub.subscription_name
  role         = each.key
  member       = local.worker
}

resource "google_bigquery_dataset_iam_member" "worker" {
  project    = var.project
  dataset_id = module.bigquery.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.worker
}

resource "google_storage_bucket_iam_member" "worker" {
  bucket = module.storage.name
  role   = "roles/storage.objectAdmin"
  member = local.worker
}

module "dataflow_streaming" {
  source                  = "../../modules/dataflow_streaming"
  project                 = var.project
  region                  = var.region
  container_spec_gcs_path = var.container_spec_gcs_path
  temp_location           = module.storage.temp_location
  staging_location        = module.storage.staging_location
  service_account_email   = google_service_account.worker.email
  labels                  = local.labels

  # Template parameters (generated variables; unset ones keep the pipeline defaults).
  input_subscription = module.pubsub.subscription_id
  product_catalog    = "${module.storage.reference_prefix}/products.csv"
  currency_rates     = "${module.storage.reference_prefix}/currency_rates.csv"
  output_directory   = module.storage.url
  window_duration    = "1m"

  depends_on = [
    google_storage_bucket_object.reference,
    google_project_iam_member.worker,
    google_pubsub_subscription_iam_member.worker,
    google_bigquery_dataset_iam_member.worker,
    google_storage_bucket_iam_member.worker,
  ]
}

output "topic_id" {
  description = "Publish events here."
  value       = module.pubsub.topic_id
}

output "job_id" {
  description = "Dataflow job id."
  value       = module.dataflow_streaming.job_id
}

output "tables" {
  description = "BigQuery tables the job writes."
  value       = module.bigquery.table_ids
}
