output "email" {
  description = "Email of the workers' service account."
  value       = google_service_account.worker.email
}

output "id" {
  description = "Id of the workers' service account, projects/<project>/serviceAccounts/<email>."
  value       = google_service_account.worker.name
}

output "grants" {
  description = "Ids of every grant, for depends_on: a job launched before its grants fails at start-up."
  value = concat(
    [google_project_iam_member.worker.id, google_bigquery_dataset_iam_member.worker.id],
    [for g in google_pubsub_subscription_iam_member.worker : g.id],
    [for g in google_pubsub_topic_iam_member.worker : g.id],
    [
      google_storage_bucket_iam_member.worker_lake_read.id,
      google_storage_bucket_iam_member.worker_lake_create.id,
      google_storage_bucket_iam_member.worker_scratch.id,
    ],
    [for g in google_storage_bucket_iam_member.worker_template : g.id],
  )
}
