output "securityhub_account_id" {
  description = "Identifier of the Security Hub account resource (the account id), when this module enabled Security Hub."
  value       = try(aws_securityhub_account.this[0].id, null)
}

output "security_hub_v2_arn" {
  description = "ARN of the new Security Hub (hubv2) resource, when this module enabled it."
  value       = try(aws_cloudcontrolapi_resource.this[0].id, null)
}

output "product_arn" {
  description = "The account's own product ARN that BatchImportFindings writes to."
  value       = var.create ? "arn:${local.partition}:securityhub:${local.region}:${local.account_id}:product/${local.account_id}/default" : null
}

output "standards_subscription_arns" {
  description = "ARNs of the subscribed standards, keyed by standard."
  value       = { for key, subscription in aws_securityhub_standards_subscription.this : key => subscription.standards_arn }
}

output "insight_arns" {
  description = "ARNs of the Tollgate insights, keyed by insight."
  value       = { for key, insight in aws_securityhub_insight.this : key => insight.arn }
}

output "finding_aggregator_arn" {
  description = "ARN of the cross-region finding aggregator."
  value       = try(aws_securityhub_finding_aggregator.this[0].id, null)
}

output "alerts_topic_arn" {
  description = "ARN of the KMS-encrypted alerts SNS topic."
  value       = try(aws_sns_topic.this[0].arn, null)
}

output "alerts_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the alerts topic."
  value       = module.kms.key_arn
}

output "alerts_rule_arn" {
  description = "ARN of the EventBridge rule that forwards imported Tollgate findings."
  value       = try(aws_cloudwatch_event_rule.this[0].arn, null)
}
