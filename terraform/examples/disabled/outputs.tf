output "role_arn" {
  description = "Null: nothing is created."
  value       = module.github_oidc_role.role_arn
}

output "alerts_topic_arn" {
  description = "Null: nothing is created."
  value       = module.security_hub.alerts_topic_arn
}

output "alert_rule_arns" {
  description = "Empty: nothing is created."
  value       = module.monitoring.alert_rule_arns
}
