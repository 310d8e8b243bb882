output "dataset_id" {
  description = "Dataset id."
  value       = google_bigquery_dataset.this.dataset_id
}

output "table_ids" {
  description = "Table ids by table name, projects/<project>/datasets/<dataset>/tables/<table>."
  value = {
    events            = google_bigquery_table.events.id
    product_metrics   = google_bigquery_table.product_metrics.id
    dead_letters      = google_bigquery_table.dead_letters.id
    trending_products = google_bigquery_table.trending_products.id
    user_sessions     = google_bigquery_table.user_sessions.id
    fraud_alerts      = google_bigquery_table.fraud_alerts.id
  }
}
