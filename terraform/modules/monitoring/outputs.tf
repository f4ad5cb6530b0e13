output "guardduty_detector_id" {
  description = "Identifier of the GuardDuty detector."
  value       = try(aws_guardduty_detector.this[0].id, null)
}

output "cloudtrail_arn" {
  description = "ARN of the multi-region trail."
  value       = try(aws_cloudtrail.this[0].arn, null)
}

output "trail_bucket_name" {
  description = "Name of the bucket the trail writes to (created or given)."
  value       = try(aws_cloudtrail.this[0].s3_bucket_name, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the trail (created or given)."
  value       = local.create_trail ? local.kms_key_arn : null
}

output "alert_rule_arns" {
  description = "ARNs of the EventBridge alert rules, keyed by API-change group (and guardduty)."
  value       = { for key, rule in aws_cloudwatch_event_rule.this : key => rule.arn }
}
