variable "project" {
  type        = string
  description = "Project of the topics and subscriptions."
}

variable "topic_name" {
  type        = string
  description = "Topic the producers publish events to."
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

variable "alerts_topic_name" {
  type        = string
  description = "Topic the pipeline publishes fraud alerts to (its alertsTopic); its subscription has the same name."
  default     = "tributary-fraud-alerts"
}

variable "dead_letter_topic_name" {
  type        = string
  description = "Topic the pipeline publishes dead letters to (its deadLetterTopic); its subscription has the same name."
  default     = "tributary-dead-letters"
}

variable "labels" {
  type        = map(string)
  description = "Labels of every resource."
  default     = {}
}
