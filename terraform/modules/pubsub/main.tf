# The events topic and the pipeline's subscription, and the two topics the
# pipeline publishes to (fraud alerts, dead letters), each with a subscription
# that keeps what it receives for inspection.
#
# The input subscription has no dead-letter policy: the pipeline owns dead
# letters. Pub/Sub's own dead-lettering would move a message the job failed to
# acknowledge a few times to a topic where it is never archived and never
# reaches the dead_letters table.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

resource "google_pubsub_topic" "events" {
  project                    = var.project
  name                       = var.topic_name
  labels                     = var.labels
  message_retention_duration = var.message_retention_duration
}

resource "google_pubsub_subscription" "events" {
  project                    = var.project
  name                       = var.subscription_name
  topic                      = google_pubsub_topic.events.id
  labels                     = var.labels
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.message_retention_duration

  # A streaming job may be stopped for longer than the default 31 days.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
}

locals {
  # The topics the pipeline publishes to, by key: --alertsTopic (every fraud
  # alert as JSON) and --deadLetterTopic (every dead letter it also writes to
  # the dead_letters table, with tributary_step, tributary_reason and
  # tributary_error attributes). Each has a subscription of the same name.
  published = {
    alerts       = var.alerts_topic_name
    dead_letters = var.dead_letter_topic_name
  }
}

resource "google_pubsub_topic" "published" {
  for_each = local.published

  project = var.project
  name    = each.value
  labels  = var.labels
}

resource "google_pubsub_subscription" "published" {
  for_each = local.published

  project                    = var.project
  name                       = each.value
  topic                      = google_pubsub_topic.published[each.key].id
  labels                     = var.labels
  message_retention_duration = var.message_retention_duration

  expiration_policy {
    ttl = ""
  }
}

# The topics and subscriptions were once resources of their own: these move an
# applied state to the instances above instead of recreating them (and losing
# the messages a subscription keeps).

moved {
  from = google_pubsub_topic.alerts
  to   = google_pubsub_topic.published["alerts"]
}

moved {
  from = google_pubsub_subscription.alerts
  to   = google_pubsub_subscription.published["alerts"]
}

moved {
  from = google_pubsub_topic.dead_letters
  to   = google_pubsub_topic.published["dead_letters"]
}

moved {
  from = google_pubsub_subscription.dead_letters
  to   = google_pubsub_subscription.published["dead_letters"]
}
