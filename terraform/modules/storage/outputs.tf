output "name" {
  description = "Bucket name."
  value       = google_storage_bucket.this.name
}

output "url" {
  description = "gs:// URL of the bucket; the pipeline's outputDirectory, so the archive lands under archive/."
  value       = google_storage_bucket.this.url
}

output "temp_location" {
  description = "Dataflow temp location."
  value       = "${google_storage_bucket.this.url}/tmp"
}

output "staging_location" {
  description = "Dataflow staging location."
  value       = "${google_storage_bucket.this.url}/staging"
}

output "reference_prefix" {
  description = "Where the reference data (product catalog, currency rates) lives."
  value       = "${google_storage_bucket.this.url}/reference"
}
