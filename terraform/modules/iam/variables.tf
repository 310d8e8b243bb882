variable "project" {
  type        = string
  description = "Project of the service account and of the dataflow.worker grant."
}

variable "account_id" {
  type        = string
  description = "Account id of the workers' service account."
  default     = "tributary-worker"
}

variable "subscription_name" {
  type        = string
  description = "Short name of the input subscription the streaming job reads."
}

variable "publish_topics" {
  type        = list(string)
  description = "Short names of the topics the pipeline publishes to (alerts, dead letters)."
}

variable "dataset_id" {
  type        = string
  description = "Dataset the pipelines write."
}

variable "lake_bucket" {
  type        = string
  description = "Name of the data-lake bucket (archive, reference data)."
}

variable "read_prefixes" {
  type        = list(string)
  description = "Object-name prefixes the workers read in the lake bucket."
  default     = ["reference/", "archive/"]
}

variable "write_prefixes" {
  type        = list(string)
  description = "Object-name prefixes under which the workers create objects in the lake bucket."
  default     = ["archive/"]
}

variable "scratch_bucket" {
  type        = string
  description = "Name of the bucket of Dataflow temp and staging files."
}

variable "template_specs" {
  type        = list(string)
  description = "gs:// paths of the Flex Template specs the launcher reads."
}
