output "topic_id" {
  description = "Events topic, projects/<project>/topics/<name>."
  value       = google_pubsub_topic.events.id
}

output "subscription_id" {
  description = "The pipeline's subscription, projects/<project>/subscriptions/<name>: its inputSubscription."
  value       = google_pubsub_subscription.events.id
}

output "subscription_name" {
  description = "Short name of the pipeline's subscription, for IAM bindings."
  value       = google_pubsub_subscription.events.name
}

output "dead_letter_topic_id" {
  description = "Topic receiving messages that exhausted their delivery attempts."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription_id" {
  description = "Subscription holding the undeliverable messages."
  value       = google_pubsub_subscription.dead_letter.id
}
