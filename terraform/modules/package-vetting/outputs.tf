output "state_machine_arn" {
  description = "ARN of the vetting state machine: tollgate firewall install --state-machine."
  value       = try(aws_sfn_state_machine.this[0].arn, null)
}

output "status_table_name" {
  description = "Name of the DynamoDB status table: tollgate firewall install --table."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "domain_name" {
  description = "Name of the CodeArtifact domain: tollgate firewall install --domain."
  value       = try(aws_codeartifact_domain.this[0].domain, null)
}

output "domain_owner" {
  description = "Account that owns the CodeArtifact domain: tollgate firewall install --domain-owner."
  value       = try(aws_codeartifact_domain.this[0].owner, null)
}

output "repositories" {
  description = "Repository names per ecosystem, intake and vetted. Installs use the vetted ones only."
  value       = var.create ? local.repository_names : null
}

output "function_arns" {
  description = "ARNs of the step functions, by step (check, block, fetch, await, copy, fail)."
  value       = { for step, function in aws_lambda_function.this : step => function.arn }
}

output "role_arns" {
  description = "ARNs of the roles, by step, and the state machine's (machine)."
  value       = { for key, role in aws_iam_role.this : key => role.arn }
}

output "client_policy_arn" {
  description = "ARN of the managed policy to attach to developer and CI roles that run tollgate firewall install."
  value       = try(aws_iam_policy.this[0].arn, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the domain's assets, the status table, the state machine, the logs and the environments."
  value       = module.kms.key_arn
}
