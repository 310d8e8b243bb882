# Everything Tributary needs in one project: the events topic and subscription
# and the alerts and dead-letter topics (pubsub), the dataset and its six
# tables (bigquery), the data-lake bucket (archive, reference data) and a
# scratch bucket for Dataflow's temp and staging files (storage), the workers'
# service account with least privilege (iam), the streaming Flex Template job
# (dataflow_streaming), the daily backfill of the previous day (scheduler) and
# the alert policies and dashboard (monitoring).
#
# Build both templates first (templates/README.md) into a bucket of their own
# with uniform bucket-level access (the workers read only the spec objects,
# through IAM conditions), then, from this folder:
#
#   terraform init
#   terraform apply -var project=my-project -var bucket=my-lake-bucket \
#     -var container_spec_gcs_path=gs://my-templates/templates/streaming.json \
#     -var backfill_container_spec_gcs_path=gs://my-templates/templates/backfill.json
#
# The grants are listed in modules/iam/main.tf and modules/scheduler/main.tf;
# go test ./terraform checks them offline.

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

variable "backfill_container_spec_gcs_path" {
  type        = string
  description = "Backfill template spec written by gcloud dataflow flex-template build."
}

variable "notification_channels" {
  type        = list(string)
  description = "Notification channel ids the alert policies notify; empty creates the policies without notifications."
  default     = []
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
  reference_dir = "${path.module}/../../../internal/sample/data"
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

module "iam" {
  source            = "../../modules/iam"
  project           = var.project
  subscription_name = module.pubsub.subscription_name
  publish_topics    = [module.pubsub.alerts_topic_name, module.pubsub.dead_letter_topic_name]
  dataset_id        = module.bigquery.dataset_id
  lake_bucket       = module.storage.name
  write_prefixes    = module.storage.output_prefixes
  scratch_bucket    = module.storage.scratch_name
  template_specs    = [var.container_spec_gcs_path, var.backfill_container_spec_gcs_path]
}

locals {
  # Both pipelines read the same reference data and write the same tables.
  common_parameters = {
    productCatalog = "${module.storage.reference_prefix}/products.csv"
    currencyRates  = "${module.storage.reference_prefix}/currency_rates.csv"
    outputDataset  = "${var.project}:${module.bigquery.dataset_id}"
  }
}

module "dataflow_streaming" {
  source                  = "../../modules/dataflow_streaming"
  project                 = var.project
  region                  = var.region
  container_spec_gcs_path = var.container_spec_gcs_path
  temp_location           = module.storage.temp_location
  staging_location        = module.storage.staging_location
  service_account_email   = module.iam.email
  labels                  = local.labels

  # Template parameters (generated variables; unset ones keep the pipeline
  # defaults). The bigquery module declares all six tables, so the job does
  # not create them (create_tables stays unset).
  input_subscription = module.pubsub.subscription_id
  product_catalog    = local.common_parameters.productCatalog
  currency_rates     = local.common_parameters.currencyRates
  output_directory   = module.storage.url
  output_dataset     = local.common_parameters.outputDataset
  alerts_topic       = module.pubsub.alerts_topic_id
  dead_letter_topic  = module.pubsub.dead_letter_topic_id
  window_duration    = "1m"

  depends_on = [google_storage_bucket_object.reference, module.iam]
}

# The backfill pipeline (pipelines/backfill, templates/backfill/metadata.json),
# launched daily over the previous UTC day once it is closed. It reads the
# archive the streaming job writes and upserts the same tables.
module "backfill" {
  source                  = "../../modules/scheduler"
  project                 = var.project
  region                  = var.region
  container_spec_gcs_path = var.backfill_container_spec_gcs_path
  service_account_email   = module.iam.email
  service_account_id      = module.iam.id
  temp_location           = module.storage.temp_location
  staging_location        = module.storage.staging_location
  labels                  = local.labels

  # Template parameters (generated variables; unset ones keep the pipeline defaults). The
  # module launches range=previous-day itself.
  archive           = module.storage.archive_url
  product_catalog   = local.common_parameters.productCatalog
  currency_rates    = local.common_parameters.currencyRates
  output_dataset    = local.common_parameters.outputDataset
  output_directory  = module.storage.url
  dead_letter_topic = module.pubsub.dead_letter_topic_id
  window_duration   = "1m"

  depends_on = [google_storage_bucket_object.reference, module.iam]
}

module "monitoring" {
  source                = "../../modules/monitoring"
  project               = var.project
  job_name              = module.dataflow_streaming.job_name
  subscription_name     = module.pubsub.subscription_name
  notification_channels = var.notification_channels
  labels                = local.labels
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

output "backfill_schedule" {
  description = "When the daily backfill runs (cron, UTC)."
  value       = module.backfill.schedule
}
