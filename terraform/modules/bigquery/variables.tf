variable "project" {
  type        = string
  description = "Project of the dataset."
}

variable "dataset_id" {
  type        = string
  description = "Dataset holding the tables."
  default     = "tributary"
}

variable "location" {
  type        = string
  description = "Dataset location; keep it with the Dataflow region."
  default     = "US"
}

variable "schema_dir" {
  type        = string
  description = "Folder of the table schema JSON files; null means the repository's schemas/bigquery."
  default     = null
}

variable "partition_expiration_days" {
  type        = number
  description = "Days a partition is kept; null keeps partitions forever."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to destroy tables that hold data."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels of every resource."
  default     = {}
}
