output "alert_policy_ids" {
  description = "Alert policy ids by signal."
  value       = { for name, policy in google_monitoring_alert_policy.this : name => policy.id }
}

output "dashboard_id" {
  description = "Dashboard id."
  value       = google_monitoring_dashboard.this.id
}
