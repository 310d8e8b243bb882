# The job's environment and schedule. The pipeline's own parameters are in the generated
# backfill_variables.tf.

variable "project" {
  type        = string
  description = "Project of the scheduler job and of the backfill jobs it launches."
}

variable "region" {
  type        = string
  description = "Dataflow region of the backfill jobs."
}

variable "scheduler_region" {
  type        = string
  description = "Region of the Cloud Scheduler job; null uses the Dataflow region."
  default     = null
}

variable "job_name" {
  type        = string
  description = "Name of the scheduler job and of the Dataflow jobs it launches."
  default     = "tributary-backfill"
}

variable "container_spec_gcs_path" {
  type        = string
  description = "The backfill template spec written by gcloud dataflow flex-template build, gs://<bucket>/templates/backfill.json."

  validation {
    condition     = startswith(var.container_spec_gcs_path, "gs://")
    error_message = "The container_spec_gcs_path must be a gs:// URI."
  }
}

variable "closing_delay_minutes" {
  type        = number
  description = "Minutes after midnight UTC the backfill of the previous day starts: at least the streaming job's allowedLateness plus the backfill's archive_lateness (default 1h) plus the time the last archive files of that hour take to be written, so the day is closed."
  default     = 120

  validation {
    condition     = var.closing_delay_minutes >= 0 && var.closing_delay_minutes < 1440 && floor(var.closing_delay_minutes) == var.closing_delay_minutes
    error_message = "The closing_delay_minutes must be a whole number of minutes within the day (0 to 1439)."
  }
}

variable "service_account_email" {
  type        = string
  description = "Workers' service account the backfill jobs run as."
}

variable "service_account_id" {
  type        = string
  description = "Id of the workers' service account, projects/<project>/serviceAccounts/<email>, which the launcher acts as."
}

variable "launcher_account_id" {
  type        = string
  description = "Account id of the launcher service account Cloud Scheduler calls Dataflow as."
  default     = "tributary-backfill-launcher"
}

variable "temp_location" {
  type        = string
  description = "gs:// folder for Dataflow temporary files."
}

variable "staging_location" {
  type        = string
  description = "gs:// folder for staged files; null uses temp_location."
  default     = null
}

variable "max_workers" {
  type        = number
  description = "Upper bound of autoscaling of a backfill job."
  default     = 10
}

variable "machine_type" {
  type        = string
  description = "Worker machine type; null lets Dataflow choose."
  default     = null
}

variable "network" {
  type        = string
  description = "VPC network of the workers; null uses default."
  default     = null
}

variable "subnetwork" {
  type        = string
  description = "Subnetwork of the workers, regions/<region>/subnetworks/<name>; null picks from network."
  default     = null
}

variable "ip_configuration" {
  type        = string
  description = "WORKER_IP_PRIVATE (needs Private Google Access) or WORKER_IP_PUBLIC."
  default     = "WORKER_IP_PRIVATE"

  validation {
    condition     = contains(["WORKER_IP_PRIVATE", "WORKER_IP_PUBLIC"], var.ip_configuration)
    error_message = "The ip_configuration must be WORKER_IP_PRIVATE or WORKER_IP_PUBLIC."
  }
}

variable "additional_experiments" {
  type        = list(string)
  description = "Dataflow experiments of the backfill jobs."
  default     = null
}

variable "labels" {
  type        = map(string)
  description = "Labels of the backfill jobs."
  default     = {}
}
