output "name" {
  description = "Bucket name."
  value       = google_storage_bucket.this.name
}

output "url" {
  description = "gs:// URL of the bucket; the pipeline's outputDirectory, so the archive lands under archive/ and the tables' files under bq/."
  value       = google_storage_bucket.this.url
}

output "output_prefixes" {
  description = "Object-name prefixes under which the pipeline creates objects in the lake bucket (outputDirectory = url), for IAM conditions: the archive, and bq/ only in lake mode (no outputDataset)."
  value       = var.lake_mode ? ["archive/", "bq/"] : ["archive/"]
}

output "archive_url" {
  description = "gs:// URL of the archive, the backfill's archive flag."
  value       = "${google_storage_bucket.this.url}/archive"
}

output "scratch_name" {
  description = "Name of the bucket of Dataflow temp and staging files."
  value       = google_storage_bucket.scratch.name
}

output "temp_location" {
  description = "Dataflow temp location, in the scratch bucket."
  value       = "${google_storage_bucket.scratch.url}/tmp"
}

output "staging_location" {
  description = "Dataflow staging location, in the scratch bucket."
  value       = "${google_storage_bucket.scratch.url}/staging"
}

output "reference_prefix" {
  description = "Where the reference data (product catalog, currency rates) lives."
  value       = "${google_storage_bucket.this.url}/reference"
}
