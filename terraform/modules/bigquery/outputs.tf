output "dataset_id" {
  description = "Dataset id."
  value       = google_bigquery_dataset.this.dataset_id
}

output "table_ids" {
  description = "Table ids by table name, projects/<project>/datasets/<dataset>/tables/<table>."
  value       = { for name, table in google_bigquery_table.this : name => table.id }
}
