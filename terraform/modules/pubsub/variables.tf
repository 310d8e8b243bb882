variable "project" {
  type        = string
  description = "Project of the topics and subscriptions."
}

variable "topic_name" {
  type        = string
  description = "Topic the producers publish events to; the dead-letter topic is named after it."
  default     = "tributary-events"
}

variable "subscription_name" {
  type        = string
  description = "Subscription the streaming pipeline reads (its inputSubscription)."
  default     = "tributary-streaming"
}

variable "ack_deadline_seconds" {
  type        = number
  description = "Acknowledgement deadline; the pipeline acknowledges after the bundle is committed."
  default     = 60
}

variable "message_retention_duration" {
  type        = string
  description = "How long the topic and subscription keep messages, so a stopped job can catch up."
  default     = "604800s"
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of a message before Pub/Sub moves it to the dead-letter topic (5 to 100)."
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "The max_delivery_attempts must be between 5 and 100."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels of every resource."
  default     = {}
}
