variable "project" {
  type        = string
  description = "Project of the bucket."
}

variable "name" {
  type        = string
  description = "Bucket name (globally unique)."
}

variable "scratch_name" {
  type        = string
  description = "Name of the bucket of Dataflow temp and staging files; null means <name>-scratch."
  default     = null
}

variable "location" {
  type        = string
  description = "Bucket location; keep it with the Dataflow region."
  default     = "US"
}

variable "archive_nearline_after_days" {
  type        = number
  description = "Days after which archive objects move to Nearline."
  default     = 30
}

variable "archive_coldline_after_days" {
  type        = number
  description = "Days after which archive objects move to Coldline."
  default     = 90
}

variable "archive_delete_after_days" {
  type        = number
  description = "Days after which archive objects are deleted; null keeps them, so any range can be replayed."
  default     = null
}

variable "scratch_delete_after_days" {
  type        = number
  description = "Days after which Dataflow temp and staging files are deleted."
  default     = 7
}

variable "lake_mode" {
  type        = bool
  description = "The job writes the tables as NDJSON objects under bq/ (no outputDataset), so workers may create objects there too."
  default     = false
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete a non-empty bucket."
  default     = false
}

variable "labels" {
  type        = map(string)
  description = "Labels of the bucket."
  default     = {}
}
