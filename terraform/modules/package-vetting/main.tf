data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  runtime      = "python3.12"

  # CodeArtifact's formats are the firewall's ecosystems; the public upstream of each.
  external_connections = { pypi = "public:pypi", npm = "public:npmjs" }
  repositories = merge([for ecosystem in var.ecosystems : {
    "${ecosystem}-intake" = { ecosystem = ecosystem, role = "intake", name = "${var.repository_prefix}${ecosystem}-intake" }
    "${ecosystem}-vetted" = { ecosystem = ecosystem, role = "vetted", name = "${var.repository_prefix}${ecosystem}-vetted" }
  }]...)
  repository_names = { for ecosystem in var.ecosystems : ecosystem => {
    intake = local.repositories["${ecosystem}-intake"].name
    vetted = local.repositories["${ecosystem}-vetted"].name
  } }

  domain_arn        = "arn:${local.partition}:codeartifact:${local.region}:${local.account_id}:domain/${var.domain_name}"
  repository_prefix = "arn:${local.partition}:codeartifact:${local.region}:${local.account_id}:repository/${var.domain_name}"
  package_prefix    = "arn:${local.partition}:codeartifact:${local.region}:${local.account_id}:package/${var.domain_name}"
  intake_arns       = [for ecosystem in var.ecosystems : "${local.repository_prefix}/${local.repository_names[ecosystem].intake}"]
  vetted_arns       = [for ecosystem in var.ecosystems : "${local.repository_prefix}/${local.repository_names[ecosystem].vetted}"]
  intake_packages   = [for ecosystem in var.ecosystems : "${local.package_prefix}/${local.repository_names[ecosystem].intake}/*"]
  vetted_packages   = [for ecosystem in var.ecosystems : "${local.package_prefix}/${local.repository_names[ecosystem].vetted}/*"]
  table_arn         = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${var.name}-status"
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name}"
  ssm               = var.fetch_mode == "ssm"

  # One function per step of vetting.asl.json, each with its own role; handlers in pipeline/vetting/handlers.py.
  steps = {
    check = { handler = "check", timeout = 300, memory = 1024, description = "Claims a version and runs the Tollgate firewall on it." }
    block = { handler = "block", timeout = 300, memory = 512, description = "Records a BLOCKED version and imports its findings into Security Hub." }
    fetch = { handler = "fetch", timeout = var.fetch_timeout, memory = 512, description = "Pulls a version into the intake repository." }
    await = { handler = "await_intake", timeout = 60, memory = 256, description = "Reports whether the version is Published in intake." }
    copy  = { handler = "copy", timeout = 120, memory = 256, description = "Copies a version from intake to vetted and records SECURE." }
    fail  = { handler = "fail", timeout = 60, memory = 256, description = "Records why a vetting did not finish (FAILED)." }
  }
  function_names = { for step, _ in local.steps : step => "${var.name}-${step}" }
  function_arns  = { for step, name in local.function_names : step => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${name}" }
  log_groups = merge(
    { for step, name in local.function_names : step => "/aws/lambda/${name}" },
    { machine = "/aws/vendedlogs/states/${var.name}" },
  )
  log_group_arns = { for key, name in local.log_groups : key => "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${name}" }

  environment = merge(var.environment_variables, {
    TOLLGATE_VETTING_TABLE               = "${var.name}-status"
    TOLLGATE_VETTING_DOMAIN              = var.domain_name
    TOLLGATE_VETTING_DOMAIN_OWNER        = local.account_id
    TOLLGATE_VETTING_REPOSITORIES        = jsonencode(local.repository_names)
    TOLLGATE_VETTING_FIREWALL_CONFIG     = var.firewall_config
    TOLLGATE_VETTING_ALLOWED_RISK_LEVELS = join(",", var.allowed_risk_levels)
    TOLLGATE_VETTING_FETCH_MODE          = var.fetch_mode
    TOLLGATE_VETTING_SSM_TARGET          = "${var.ssm_target_tag.key}=${var.ssm_target_tag.value}"
    TOLLGATE_VETTING_SSM_OUTPUT_BUCKET   = coalesce(var.ssm_output_bucket_name, "")
    TOLLGATE_VETTING_MAX_BYTES           = tostring(var.max_package_bytes)
    TOLLGATE_VETTING_POLL_SECONDS        = tostring(var.poll_seconds)
    TOLLGATE_VETTING_MAX_POLLS           = tostring(var.max_polls)
    TOLLGATE_VETTING_STALE_SECONDS       = tostring(var.poll_seconds * var.max_polls + 2 * var.fetch_timeout + 900)
    TOLLGATE_VETTING_TTL_DAYS            = tostring(var.status_ttl_days)
  })
}

################################################################################
# KMS key: the domain's assets, the status table, the state machine, logs and environments
################################################################################

module "kms" {
  source = "../kms-key"

  create                  = var.create
  description             = "Tollgate package vetting: CodeArtifact assets, status table, state machine, logs"
  deletion_window_in_days = var.kms_key_deletion_window_days
  tags                    = var.tags

  service_statements = [{
    sid     = "CloudWatchLogsEncryptsTheVettingLogGroups"
    service = "logs.${local.region}.amazonaws.com"
    actions = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    conditions = [{
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = values(local.log_group_arns)
    }]
  }]
}

################################################################################
# CodeArtifact: one domain, an intake (public upstream) and a vetted repository per ecosystem
################################################################################

resource "aws_codeartifact_domain" "this" {
  count = var.create ? 1 : 0

  domain         = var.domain_name
  encryption_key = module.kms.key_arn
  tags           = var.tags
}

resource "aws_codeartifact_repository" "this" {
  for_each = var.create ? local.repositories : {}

  repository  = each.value.name
  domain      = aws_codeartifact_domain.this[0].domain
  description = each.value.role == "intake" ? "Pulls ${each.value.ecosystem} versions from the public registry for vetting; not for installs." : "Vetted ${each.value.ecosystem} versions only: filled by the Tollgate vetting flow's CopyPackageVersions."
  tags        = var.tags

  dynamic "external_connections" {
    for_each = each.value.role == "intake" ? [local.external_connections[each.value.ecosystem]] : []

    content {
      external_connection_name = external_connections.value
    }
  }
}

################################################################################
# Status table
################################################################################

resource "aws_dynamodb_table" "this" {
  count = var.create ? 1 : 0

  name                        = "${var.name}-status"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.kms.key_arn
  }
}

################################################################################
# Log groups: one per function, one for the state machine
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  for_each = var.create ? local.log_groups : {}

  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.key_arn
  tags              = var.tags
}

################################################################################
# Roles: one per function and one for the state machine, each with only what its step does
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "states_assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.state_machine_arn]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = var.create ? merge(local.function_names, { machine = var.name }) : {}

  name               = "${each.value}-role"
  description        = each.key == "machine" ? "Tollgate package vetting: the state machine." : "Tollgate package vetting: the ${each.key} step."
  assume_role_policy = each.key == "machine" ? data.aws_iam_policy_document.states_assume[0].json : data.aws_iam_policy_document.lambda_assume[0].json
  tags               = var.tags
}

# What every function does: write its own logs and traces, decrypt its environment and the table.
data "aws_iam_policy_document" "function" {
  for_each = var.create ? local.function_names : {}

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arns[each.key]}:*"]
  }

  statement {
    sid       = "UseOwnKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.kms.key_arn]
  }

  # X-Ray's write actions support no resource-level permissions.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "check" {
  count = var.create ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.function["check"].json]

  statement {
    sid       = "ClaimAndRecordStatus"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [local.table_arn]
  }
}

data "aws_iam_policy_document" "block" {
  count = var.create ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.function["block"].json]

  statement {
    sid       = "RecordStatus"
    actions   = ["dynamodb:UpdateItem"]
    resources = [local.table_arn]
  }

  statement {
    sid       = "ImportFindingsIntoOwnProduct"
    actions   = ["securityhub:BatchImportFindings"]
    resources = ["arn:${local.partition}:securityhub:${local.region}:${local.account_id}:product/${local.account_id}/default"]

    condition {
      test     = "StringEquals"
      variable = "securityhub:TargetAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "ReadFindingsForLifecycle"
    actions   = ["securityhub:GetFindings"]
    resources = ["arn:${local.partition}:securityhub:${local.region}:${local.account_id}:hub/default"]
  }
}

data "aws_iam_policy_document" "fetch" {
  count = var.create ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.function["fetch"].json]

  statement {
    sid       = "FindIntakeEndpoint"
    actions   = ["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"]
    resources = local.intake_arns
  }

  statement {
    sid       = "TokenForTheDomain"
    actions   = ["codeartifact:GetAuthorizationToken"]
    resources = [local.domain_arn]
  }

  # GetServiceBearerToken has no resource-level permissions; the condition pins it to CodeArtifact.
  statement {
    sid       = "BearerTokenForCodeArtifact"
    actions   = ["sts:GetServiceBearerToken"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "sts:AWSServiceName"
      values   = ["codeartifact.amazonaws.com"]
    }
  }

  # SendCommand is authorized on the document and on each instance: the shell document, and only
  # the instances with the target tag.
  dynamic "statement" {
    for_each = local.ssm ? [1] : []

    content {
      sid       = "SendRunShellScript"
      actions   = ["ssm:SendCommand"]
      resources = ["arn:${local.partition}:ssm:${local.region}::document/AWS-RunShellScript"]
    }
  }

  dynamic "statement" {
    for_each = local.ssm ? [var.ssm_target_tag] : []

    content {
      sid       = "SendToTaggedInstancesOnly"
      actions   = ["ssm:SendCommand"]
      resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]

      condition {
        test     = "StringEquals"
        variable = "ssm:resourceTag/${statement.value.key}"
        values   = [statement.value.value]
      }
    }
  }
}

data "aws_iam_policy_document" "await" {
  count = var.create ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.function["await"].json]

  statement {
    sid       = "DescribeIntakeVersions"
    actions   = ["codeartifact:DescribePackageVersion"]
    resources = local.intake_packages
  }

  # ListCommands has no resource-level permissions.
  dynamic "statement" {
    for_each = local.ssm ? [1] : []

    content {
      sid       = "ListRunCommands"
      actions   = ["ssm:ListCommands"]
      resources = ["*"]
    }
  }
}

data "aws_iam_policy_document" "copy" {
  count = var.create ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.function["copy"].json]

  statement {
    sid       = "ReadIntake"
    actions   = ["codeartifact:ReadFromRepository"]
    resources = local.intake_arns
  }

  statement {
    sid       = "CopyIntoVetted"
    actions   = ["codeartifact:CopyPackageVersions"]
    resources = local.vetted_arns
  }

  statement {
    sid       = "RecordStatus"
    actions   = ["dynamodb:UpdateItem"]
    resources = [local.table_arn]
  }
}

data "aws_iam_policy_document" "fail" {
  count = var.create ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.function["fail"].json]

  statement {
    sid       = "RecordStatus"
    actions   = ["dynamodb:UpdateItem"]
    resources = [local.table_arn]
  }
}

data "aws_iam_policy_document" "machine" {
  count = var.create ? 1 : 0

  statement {
    sid       = "InvokeOwnSteps"
    actions   = ["lambda:InvokeFunction"]
    resources = values(local.function_arns)
  }

  statement {
    sid       = "UseOwnKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.kms.key_arn]
  }

  # Vended log delivery and X-Ray support no resource-level permissions.
  statement {
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = var.create ? merge(local.function_names, { machine = var.name }) : {}

  name = "tollgate-vetting-${each.key}"
  role = aws_iam_role.this[each.key].id
  policy = {
    check   = try(data.aws_iam_policy_document.check[0].json, null)
    block   = try(data.aws_iam_policy_document.block[0].json, null)
    fetch   = try(data.aws_iam_policy_document.fetch[0].json, null)
    await   = try(data.aws_iam_policy_document.await[0].json, null)
    copy    = try(data.aws_iam_policy_document.copy[0].json, null)
    fail    = try(data.aws_iam_policy_document.fail[0].json, null)
    machine = try(data.aws_iam_policy_document.machine[0].json, null)
  }[each.key]
}

################################################################################
# Functions: the steps
################################################################################

resource "aws_lambda_function" "this" {
  for_each = var.create ? local.steps : {}

  #checkov:skip=CKV_AWS_116:Step Functions invokes each step synchronously and retries or catches its errors; a DLQ would never receive anything.
  #checkov:skip=CKV_AWS_117:The steps call CodeArtifact, DynamoDB, Security Hub and the public registries; a VPC would add NAT or endpoints and no protection.
  #checkov:skip=CKV_AWS_272:The package is built from this repository in CI and deployed by Terraform; code signing is left to the caller's pipeline.
  function_name                  = local.function_names[each.key]
  description                    = each.value.description
  role                           = aws_iam_role.this[each.key].arn
  runtime                        = local.runtime
  handler                        = "pipeline.vetting.handlers.${each.value.handler}"
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = each.value.memory
  timeout                        = each.value.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = module.kms.key_arn

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  lifecycle {
    # At plan, not validate: the package is built just before apply, and validate runs without it.
    precondition {
      condition     = try(fileexists(var.package_path), false) # null or a folder: false
      error_message = "package_path names no file: run make lambda-package (it writes build/findings-importer.zip) and pass its path."
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this[each.key].name
  }

  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}

################################################################################
# State machine: vetting.asl.json; started by `tollgate firewall install` (StartExecution)
################################################################################

resource "aws_sfn_state_machine" "this" {
  count = var.create ? 1 : 0

  name     = var.name
  role_arn = aws_iam_role.this["machine"].arn
  type     = "STANDARD"
  definition = templatefile("${path.module}/vetting.asl.json", {
    for step, _ in local.steps : "${step}_function_arn" => aws_lambda_function.this[step].arn
  })
  tags = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this["machine"].arn}:*"
    # The state holds coordinates, verdicts and error causes, never a token.
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = module.kms.key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  depends_on = [aws_iam_role_policy.this]
}

################################################################################
# What a developer's role needs to run `tollgate firewall install`
################################################################################

data "aws_iam_policy_document" "client" {
  count = var.create ? 1 : 0

  statement {
    sid       = "ReadStatus"
    actions   = ["dynamodb:GetItem"]
    resources = [local.table_arn]
  }

  statement {
    sid       = "DecryptStatus"
    actions   = ["kms:Decrypt"]
    resources = [module.kms.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${local.region}.amazonaws.com", "codeartifact.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "AskForVetting"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "TokenForTheDomain"
    actions   = ["codeartifact:GetAuthorizationToken"]
    resources = [local.domain_arn]
  }

  statement {
    sid       = "InstallFromVetted"
    actions   = ["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"]
    resources = local.vetted_arns
  }

  # GetServiceBearerToken has no resource-level permissions; the condition pins it to CodeArtifact.
  statement {
    sid       = "BearerTokenForCodeArtifact"
    actions   = ["sts:GetServiceBearerToken"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "sts:AWSServiceName"
      values   = ["codeartifact.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "this" {
  count = var.create ? 1 : 0

  name        = "${var.name}-client"
  description = "Lets a developer or CI role ask for vetting and install vetted packages (tollgate firewall install)."
  policy      = data.aws_iam_policy_document.client[0].json
  tags        = var.tags
}
