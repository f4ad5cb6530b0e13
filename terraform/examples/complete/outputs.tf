output "role_arn" {
  description = "Role for aws-actions/configure-aws-credentials in the Tollgate workflows."
  value       = module.github_oidc_role.role_arn
}

output "report_bucket" {
  description = "Bucket the workflows upload reports to, under reports/."
  value       = module.report_bucket.bucket_id
}

output "alerts_topic_arn" {
  description = "Subscribe to this topic to receive the alerts."
  value       = module.security_hub.alerts_topic_arn
}

output "importer_function_name" {
  description = "Lambda function that imports uploaded reports into Security Hub."
  value       = module.findings_importer.function_name
}

output "importer_dlq_url" {
  description = "Dead-letter queue of imports that failed after all retries."
  value       = module.findings_importer.dlq_url
}
