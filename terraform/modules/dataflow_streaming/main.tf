# The streaming pipeline as a Dataflow Flex Template job. Template parameters
# come from local.streaming_parameters in the generated variables.tf; the
# job's environment (workers, network, identity) from job_variables.tf.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 5.0"
    }
  }
}

resource "google_dataflow_flex_template_job" "streaming" {
  # Flex Template jobs are only in the beta provider.
  provider = google-beta

  project                 = var.project
  region                  = var.region
  name                    = var.job_name
  container_spec_gcs_path = var.container_spec_gcs_path
  parameters              = merge(local.streaming_parameters, var.extra_parameters)
  labels                  = var.labels

  temp_location           = var.temp_location
  staging_location        = var.staging_location
  service_account_email   = var.service_account_email
  network                 = var.network
  subnetwork              = var.subnetwork
  ip_configuration        = var.ip_configuration
  machine_type            = var.machine_type
  num_workers             = var.num_workers
  max_workers             = var.max_workers
  enable_streaming_engine = var.enable_streaming_engine
  additional_experiments  = var.additional_experiments

  # Drain lets in-flight windows finish and be written before the job stops.
  on_delete                    = var.on_delete
  skip_wait_on_job_termination = var.skip_wait_on_job_termination
}
