output "project_name" {
  description = "Name of the CodeBuild project."
  value       = try(aws_codebuild_project.this[0].name, null)
}

output "project_arn" {
  description = "ARN of the CodeBuild project."
  value       = try(aws_codebuild_project.this[0].arn, null)
}

output "role_arn" {
  description = "ARN of the project's service role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "log_group_name" {
  description = "Name of the build log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the build logs and CodeBuild's artifacts."
  value       = module.kms.key_arn
}

output "zap_document_name" {
  description = "Name of the ZAP SSM document (zap-ssm's document option); null without dast_instance_arns."
  value       = try(aws_ssm_document.this[0].name, null)
}
