output "bucket_id" {
  description = "Name of the bucket."
  value       = try(aws_s3_bucket.this[0].id, null)
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = try(aws_s3_bucket.this[0].arn, null)
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the bucket."
  value       = try(aws_s3_bucket.this[0].bucket_regional_domain_name, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the bucket (created or given)."
  value       = var.create ? local.kms_key_arn : null
}

output "kms_key_created" {
  description = "Whether this module created the bucket's KMS key."
  value       = local.create_kms_key
}
