output "job_id" {
  description = "Dataflow job id."
  value       = google_dataflow_flex_template_job.streaming.job_id
}

output "state" {
  description = "Job state as last read."
  value       = google_dataflow_flex_template_job.streaming.state
}

output "parameters" {
  description = "Template parameters the job was launched with."
  value       = google_dataflow_flex_template_job.streaming.parameters
}

output "job_name" {
  description = "Job name, for monitoring filters."
  value       = google_dataflow_flex_template_job.streaming.name
}
