output "role_arn" {
  description = "ARN of the role; give it to aws-actions/configure-aws-credentials as role-to-assume."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider (created or existing)."
  value       = var.create ? local.oidc_provider_arn : null
}

output "trusted_subjects" {
  description = "The sub claims the role trusts, after expansion of repositories, branches and environments."
  value       = var.create ? local.subjects : []
}
