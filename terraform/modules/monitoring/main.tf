# Alert policies on what says the streaming job is unwell, and a dashboard of
# the same series:
#
# - the dead-letter rate: the pipeline's dead-letter counters (Beam counters
#   tributary/deadletter.<reason>, which Dataflow exports as
#   dataflow.googleapis.com/job/user_counter with a metric_name label);
# - the input subscription's oldest unacknowledged message age (the job is
#   not keeping up, or not acknowledging);
# - data freshness: the job's data watermark age.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

locals {
  dead_letter_filter = join(" AND ", [
    "metric.type=\"dataflow.googleapis.com/job/user_counter\"",
    "resource.type=\"dataflow_job\"",
    "resource.label.job_name=\"${var.job_name}\"",
    "metric.label.metric_name=starts_with(\"deadletter.\")",
  ])
  oldest_unacked_filter = join(" AND ", [
    "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\"",
    "resource.type=\"pubsub_subscription\"",
    "resource.label.subscription_id=\"${var.subscription_name}\"",
  ])
  watermark_age_filter = join(" AND ", [
    "metric.type=\"dataflow.googleapis.com/job/data_watermark_age\"",
    "resource.type=\"dataflow_job\"",
    "resource.label.job_name=\"${var.job_name}\"",
  ])
}

resource "google_monitoring_alert_policy" "dead_letters" {
  project               = var.project
  display_name          = "Tributary: dead letters (${var.job_name})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = var.labels

  conditions {
    display_name = "Dead letters per second above ${var.dead_letters_per_second}"
    condition_threshold {
      filter          = local.dead_letter_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.dead_letters_per_second
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content   = "The pipeline is dead-lettering messages: query the dead_letters table by step and reason."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "oldest_unacked" {
  project               = var.project
  display_name          = "Tributary: subscription backlog age (${var.subscription_name})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = var.labels

  conditions {
    display_name = "Oldest unacked message older than ${var.max_oldest_unacked_seconds}s"
    condition_threshold {
      filter          = local.oldest_unacked_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.max_oldest_unacked_seconds
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "The streaming job is not keeping up with its subscription, or is not acknowledging."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "data_freshness" {
  project               = var.project
  display_name          = "Tributary: data freshness (${var.job_name})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = var.labels

  conditions {
    display_name = "Data watermark older than ${var.max_watermark_age_seconds}s"
    condition_threshold {
      filter          = local.watermark_age_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.max_watermark_age_seconds
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "The job's watermark is stuck or behind: windows are not closing, tables are stale."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_dashboard" "this" {
  project = var.project
  dashboard_json = jsonencode({
    displayName = "Tributary (${var.job_name})"
    gridLayout = {
      columns = 3
      widgets = [
        for w in [
          { title = "Dead letters per second", filter = local.dead_letter_filter, aligner = "ALIGN_RATE" },
          { title = "Oldest unacked message age (s)", filter = local.oldest_unacked_filter, aligner = "ALIGN_MAX" },
          { title = "Data watermark age (s)", filter = local.watermark_age_filter, aligner = "ALIGN_MAX" },
          ] : {
          title = w.title
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter      = w.filter
                  aggregation = { alignmentPeriod = "60s", perSeriesAligner = w.aligner }
                }
              }
            }]
          }
        }
      ]
    }
  })
}
