variable "project" {
  type        = string
  description = "Project of the alert policies and the dashboard."
}

variable "job_name" {
  type        = string
  description = "Name of the streaming Dataflow job (its name is kept across updates)."
}

variable "subscription_name" {
  type        = string
  description = "Short name of the input subscription."
}

variable "dead_letters_per_second" {
  type        = number
  description = "Alert when the job dead-letters more messages per second than this, for 5 minutes."
  default     = 1
}

variable "max_oldest_unacked_seconds" {
  type        = number
  description = "Alert when the subscription's oldest unacknowledged message is older than this, for 5 minutes."
  default     = 600
}

variable "max_watermark_age_seconds" {
  type        = number
  description = "Alert when the job's data watermark is older than this, for 5 minutes."
  default     = 600
}

variable "notification_channels" {
  type        = list(string)
  description = "Notification channel ids (projects/<project>/notificationChannels/<id>) the alerts go to."
  default     = []
}

variable "labels" {
  type        = map(string)
  description = "User labels of the alert policies."
  default     = {}
}
