# The job's environment. The pipeline's own parameters are in the generated
# variables.tf.

variable "project" {
  type        = string
  description = "Project the job runs in."
}

variable "region" {
  type        = string
  description = "Dataflow region."
}

variable "job_name" {
  type        = string
  description = "Job name; a streaming job keeps its name across updates."
  default     = "tributary-streaming"
}

variable "container_spec_gcs_path" {
  type        = string
  description = "The template spec written by gcloud dataflow flex-template build, gs://<bucket>/templates/streaming.json."

  validation {
    condition     = startswith(var.container_spec_gcs_path, "gs://")
    error_message = "The container_spec_gcs_path must be a gs:// URI."
  }
}

variable "extra_parameters" {
  type        = map(string)
  description = "Further template parameters, merged over the generated ones (for example Beam pipeline options)."
  default     = {}
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

variable "service_account_email" {
  type        = string
  description = "Worker service account; null uses the Compute Engine default account."
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

variable "machine_type" {
  type        = string
  description = "Worker machine type; null lets Dataflow choose."
  default     = null
}

variable "num_workers" {
  type        = number
  description = "Initial number of workers; null lets Dataflow choose."
  default     = null
}

variable "max_workers" {
  type        = number
  description = "Upper bound of autoscaling."
  default     = 10
}

variable "enable_streaming_engine" {
  type        = bool
  description = "Run windowing and state in the Streaming Engine service rather than on workers."
  default     = true
}

variable "additional_experiments" {
  type        = list(string)
  description = "Dataflow experiments, for example enable_stackdriver_agent_metrics."
  default     = []
}

variable "labels" {
  type        = map(string)
  description = "Labels of the job."
  default     = {}
}

variable "on_delete" {
  type        = string
  description = "What terraform destroy does to the running job: drain (finish in-flight work) or cancel."
  default     = "drain"

  validation {
    condition     = contains(["drain", "cancel"], var.on_delete)
    error_message = "The on_delete must be drain or cancel."
  }
}

variable "skip_wait_on_job_termination" {
  type        = bool
  description = "Do not wait for the job to stop on destroy or replacement."
  default     = false
}
