output "key_arn" {
  description = "ARN of the key; null when create is false."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "key_id" {
  description = "Identifier of the key; null when create is false."
  value       = try(aws_kms_key.this[0].key_id, null)
}

output "policy_json" {
  description = "The key policy, for review; null when create is false."
  value       = try(data.aws_iam_policy_document.this[0].json, null)
}
