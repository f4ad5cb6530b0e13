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

output "vetting_state_machine_arn" {
  description = "State machine that vets packages for tollgate firewall install."
  value       = module.package_vetting.state_machine_arn
}

output "vetting_client_policy_arn" {
  description = "Attach to the roles that run tollgate firewall install."
  value       = module.package_vetting.client_policy_arn
}

output "importer_dlq_url" {
  description = "Dead-letter queue of imports that failed after all retries."
  value       = module.findings_importer.dlq_url
}
