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
  # One alert policy per signal, by name; the dashboard charts the same series.
  alerts = {
    dead_letters = {
      display_name = "Tributary: dead letters (${var.job_name})"
      condition    = "Dead letters per second above ${var.dead_letters_per_second}"
      chart        = "Dead letters per second"
      filter = join(" AND ", [
        "metric.type=\"dataflow.googleapis.com/job/user_counter\"",
        "resource.type=\"dataflow_job\"",
        "resource.label.job_name=\"${var.job_name}\"",
        "metric.label.metric_name=starts_with(\"deadletter.\")",
      ])
      threshold     = var.dead_letters_per_second
      aligner       = "ALIGN_RATE"
      reducer       = "REDUCE_SUM"
      documentation = "The pipeline is dead-lettering messages: query the dead_letters table by step and reason."
    }

    oldest_unacked = {
      display_name = "Tributary: subscription backlog age (${var.subscription_name})"
      condition    = "Oldest unacked message older than ${var.max_oldest_unacked_seconds}s"
      chart        = "Oldest unacked message age (s)"
      filter = join(" AND ", [
        "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\"",
        "resource.type=\"pubsub_subscription\"",
        "resource.label.subscription_id=\"${var.subscription_name}\"",
      ])
      threshold     = var.max_oldest_unacked_seconds
      aligner       = "ALIGN_MAX"
      reducer       = null
      documentation = "The streaming job is not keeping up with its subscription, or is not acknowledging."
    }

    data_freshness = {
      display_name = "Tributary: data freshness (${var.job_name})"
      condition    = "Data watermark older than ${var.max_watermark_age_seconds}s"
      chart        = "Data watermark age (s)"
      filter = join(" AND ", [
        "metric.type=\"dataflow.googleapis.com/job/data_watermark_age\"",
        "resource.type=\"dataflow_job\"",
        "resource.label.job_name=\"${var.job_name}\"",
      ])
      threshold     = var.max_watermark_age_seconds
      aligner       = "ALIGN_MAX"
      reducer       = null
      documentation = "The job's watermark is stuck or behind: windows are not closing, tables are stale."
    }
  }
}

resource "google_monitoring_alert_policy" "this" {
  for_each = local.alerts

  project               = var.project
  display_name          = each.value.display_name
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = var.labels

  conditions {
    display_name = each.value.condition
    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = each.value.aligner
        cross_series_reducer = each.value.reducer
      }
    }
  }

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
  }
}

# The policies were once resources of their own: these move an applied state to
# the instances above instead of recreating them.

moved {
  from = google_monitoring_alert_policy.dead_letters
  to   = google_monitoring_alert_policy.this["dead_letters"]
}

moved {
  from = google_monitoring_alert_policy.oldest_unacked
  to   = google_monitoring_alert_policy.this["oldest_unacked"]
}

moved {
  from = google_monitoring_alert_policy.data_freshness
  to   = google_monitoring_alert_policy.this["data_freshness"]
}

resource "google_monitoring_dashboard" "this" {
  project = var.project
  dashboard_json = jsonencode({
    displayName = "Tributary (${var.job_name})"
    gridLayout = {
      columns = 3
      widgets = [
        for name in ["dead_letters", "oldest_unacked", "data_freshness"] : {
          title = local.alerts[name].chart
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter      = local.alerts[name].filter
                  aggregation = { alignmentPeriod = "60s", perSeriesAligner = local.alerts[name].aligner }
                }
              }
            }]
          }
        }
      ]
    }
  })
}
