# Everything the streaming pipeline needs in one project: the events topic and
# subscription, the BigQuery dataset the job writes the tables to, the
# data-lake bucket (archive, reference data) and a scratch bucket (Dataflow
# temp and staging), a worker service account with least privilege, and the
# Flex Template job.
#
# Build the template first (templates/README.md) into a bucket of its own with
# uniform bucket-level access (the worker reads only the spec object, through
# an IAM condition), then:
#
#   terraform init
#   terraform apply -var project=my-project -var bucket=my-lake-bucket \
#     -var container_spec_gcs_path=gs://my-templates/templates/streaming.json
#
# The worker's identity gets only:
# - roles/dataflow.worker on the project (the only project-wide role);
# - subscriber and viewer on the one subscription;
# - roles/bigquery.dataEditor on the dataset (Storage Write appends and, with
#   createTables, tables.insert; no bigquery.jobUser: the job runs no jobs);
# - on the lake bucket: read (reference data, and an existing object a retried
#   write compares itself with) and create only under archive/ and bq/, never
#   replace or delete;
# - objectAdmin on the scratch bucket, whose files Dataflow creates and deletes;
# - read on the template spec object only.
# The launcher also pulls the template image with this identity: grant it
# roles/artifactregistry.reader on that repository if it is not public.

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
  project = var.project
  role    = "roles/dataflow.worker"
  member  = local.worker
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

locals {
  lake_objects = "projects/_/buckets/${module.storage.name}/objects/"
  # gs://<bucket>/<object> of the template spec.
  template = regex("^gs://([^/]+)/(.+)$", var.container_spec_gcs_path)
}

resource "google_storage_bucket_iam_member" "worker_lake_read" {
  bucket = module.storage.name
  role   = "roles/storage.objectViewer"
  member = local.worker
}

# objectCreator holds no delete, so nothing the pipeline wrote can be replaced
# or removed by its workers (every write is create-if-absent).
resource "google_storage_bucket_iam_member" "worker_lake_create" {
  bucket = module.storage.name
  role   = "roles/storage.objectCreator"
  member = local.worker

  condition {
    title       = "pipeline-outputs"
    description = "Create objects only under the pipeline's output prefixes."
    expression  = join(" || ", [for p in module.storage.output_prefixes : "resource.name.startsWith(\"${local.lake_objects}${p}\")"])
  }
}

resource "google_storage_bucket_iam_member" "worker_scratch" {
  bucket = module.storage.scratch_name
  role   = "roles/storage.objectAdmin"
  member = local.worker
}

resource "google_storage_bucket_iam_member" "worker_template" {
  bucket = local.template[0]
  role   = "roles/storage.objectViewer"
  member = local.worker

  condition {
    title       = "template-spec"
    description = "Read only the Flex Template spec."
    expression  = "resource.name == \"projects/_/buckets/${local.template[0]}/objects/${local.template[1]}\""
  }
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
  output_dataset     = "${var.project}:${module.bigquery.dataset_id}"
  # The bigquery module does not yet declare every table (nor product_metrics'
  # primary key): the job creates what is missing.
  create_tables   = "true"
  window_duration = "1m"

  depends_on = [
    google_storage_bucket_object.reference,
    google_project_iam_member.worker,
    google_pubsub_subscription_iam_member.worker,
    google_bigquery_dataset_iam_member.worker,
    google_storage_bucket_iam_member.worker_lake_read,
    google_storage_bucket_iam_member.worker_lake_create,
    google_storage_bucket_iam_member.worker_scratch,
    google_storage_bucket_iam_member.worker_template,
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
