# Cloud Scheduler launching the backfill Flex Template once a day over the
# previous UTC day. The launch body is static, so the range travels relative
# (--range=previous-day) and the backfill resolves it at launch:
# [yesterday 00:00, today 00:00) UTC.
#
# A range is closed (late events can no longer change it) once the streaming
# job's allowed lateness and the archive's lateness have passed after its end,
# so the job fires closing_delay_minutes after midnight UTC, never earlier.
#
# The launch runs as a launcher service account of its own: roles/dataflow.developer
# on the project (Dataflow has no per-job IAM; launching a job needs
# dataflow.jobs.create on the project), actAs on the workers' service account
# only, and read on the template spec object only. The job itself runs as the
# workers' account.

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
  launcher = "serviceAccount:${google_service_account.launcher.email}"
  template = regex("^gs://([^/]+)/(.+)$", var.container_spec_gcs_path)
  # The pipeline's parameters are the generated variables (backfill_variables.tf, from
  # pipelines/backfill/options.go). The range is the module's: a fixed range would replay the
  # same day daily, so from, to and range have no variable.
  parameters = merge(local.backfill_parameters, { range = "previous-day" })
  # JSON null is the default of a proto field: unset ones keep Dataflow's.
  environment = {
    serviceAccountEmail   = var.service_account_email
    tempLocation          = var.temp_location
    stagingLocation       = var.staging_location
    maxWorkers            = var.max_workers
    machineType           = var.machine_type
    network               = var.network
    subnetwork            = var.subnetwork
    ipConfiguration       = var.ip_configuration
    additionalUserLabels  = var.labels
    additionalExperiments = var.additional_experiments
  }
}

resource "google_service_account" "launcher" {
  project      = var.project
  account_id   = var.launcher_account_id
  display_name = "Tributary backfill launcher (Cloud Scheduler)"
}

resource "google_project_iam_member" "launcher" {
  project = var.project
  role    = "roles/dataflow.developer"
  member  = local.launcher
}

resource "google_service_account_iam_member" "launcher_act_as_worker" {
  service_account_id = var.service_account_id
  role               = "roles/iam.serviceAccountUser"
  member             = local.launcher
}

resource "google_storage_bucket_iam_member" "launcher_template" {
  bucket = local.template[0]
  role   = "roles/storage.objectViewer"
  member = local.launcher

  condition {
    title       = "template-spec"
    description = "Read only the backfill Flex Template spec."
    expression  = "resource.name == \"projects/_/buckets/${local.template[0]}/objects/${local.template[1]}\""
  }
}

resource "google_cloud_scheduler_job" "backfill" {
  project     = var.project
  region      = coalesce(var.scheduler_region, var.region)
  name        = var.job_name
  description = "Daily Tributary backfill of the previous UTC day, ${var.closing_delay_minutes} minutes after midnight so the day is closed."
  schedule    = "${var.closing_delay_minutes % 60} ${floor(var.closing_delay_minutes / 60)} * * *"
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 3
  }

  http_target {
    http_method = "POST"
    uri         = "https://dataflow.googleapis.com/v1b3/projects/${var.project}/locations/${var.region}/flexTemplates:launch"
    headers     = { "Content-Type" = "application/json" }
    body = base64encode(jsonencode({
      launchParameter = {
        jobName              = var.job_name
        containerSpecGcsPath = var.container_spec_gcs_path
        parameters           = local.parameters
        environment          = local.environment
      }
    }))

    oauth_token {
      service_account_email = google_service_account.launcher.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [
    google_project_iam_member.launcher,
    google_service_account_iam_member.launcher_act_as_worker,
    google_storage_bucket_iam_member.launcher_template,
  ]
}
