output "topic_id" {
  description = "Events topic, projects/<project>/topics/<name>."
  value       = google_pubsub_topic.events.id
}

output "subscription_id" {
  description = "The pipeline's subscription, projects/<project>/subscriptions/<name>: its inputSubscription."
  value       = google_pubsub_subscription.events.id
}

output "subscription_name" {
  description = "Short name of the pipeline's subscription, for IAM bindings and monitoring filters."
  value       = google_pubsub_subscription.events.name
}

output "alerts_topic_id" {
  description = "Fraud alerts topic, projects/<project>/topics/<name>: the pipeline's alertsTopic."
  value       = google_pubsub_topic.published["alerts"].id
}

output "alerts_topic_name" {
  description = "Short name of the fraud alerts topic, for IAM bindings."
  value       = google_pubsub_topic.published["alerts"].name
}

output "dead_letter_topic_id" {
  description = "Dead-letter topic, projects/<project>/topics/<name>: the pipeline's deadLetterTopic."
  value       = google_pubsub_topic.published["dead_letters"].id
}

output "dead_letter_topic_name" {
  description = "Short name of the dead-letter topic, for IAM bindings."
  value       = google_pubsub_topic.published["dead_letters"].name
}

output "dead_letter_subscription_id" {
  description = "Subscription keeping the dead letters the pipeline publishes."
  value       = google_pubsub_subscription.published["dead_letters"].id
}
