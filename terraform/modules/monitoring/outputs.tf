output "alert_policy_ids" {
  description = "Alert policy ids by signal."
  value = {
    dead_letters   = google_monitoring_alert_policy.dead_letters.id
    oldest_unacked = google_monitoring_alert_policy.oldest_unacked.id
    data_freshness = google_monitoring_alert_policy.data_freshness.id
  }
}

output "dashboard_id" {
  description = "Dashboard id."
  value       = google_monitoring_dashboard.this.id
}
