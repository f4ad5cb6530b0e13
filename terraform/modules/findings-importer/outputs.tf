output "function_arn" {
  description = "ARN of the importer Lambda function."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "function_name" {
  description = "Name of the importer Lambda function."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "queue_arn" {
  description = "ARN of the event queue between the report bucket and the function."
  value       = try(aws_sqs_queue.this["events"].arn, null)
}

output "queue_url" {
  description = "URL of the event queue."
  value       = try(aws_sqs_queue.this["events"].url, null)
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue that receives events whose import failed after all retries."
  value       = try(aws_sqs_queue.this["dlq"].arn, null)
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = try(aws_sqs_queue.this["dlq"].url, null)
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log group, the DLQ and the environment variables."
  value       = module.kms.key_arn
}

output "package_path" {
  description = "Path of the zip deployed to the function."
  value       = var.create ? var.package_path : null
}
