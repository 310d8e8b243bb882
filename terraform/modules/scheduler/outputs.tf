output "scheduler_job_id" {
  description = "Cloud Scheduler job id."
  value       = google_cloud_scheduler_job.backfill.id
}

output "schedule" {
  description = "Cron schedule of the backfill, in UTC."
  value       = google_cloud_scheduler_job.backfill.schedule
}

output "launcher_email" {
  description = "Email of the launcher service account."
  value       = google_service_account.launcher.email
}
