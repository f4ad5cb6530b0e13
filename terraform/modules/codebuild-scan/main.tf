data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id # 5.x and 6.x: the region name (6.x deprecates .name for .region)
  account_id = data.aws_caller_identity.current.account_id

  securityhub_region = coalesce(var.securityhub_region, local.region)
  log_group_name     = "/aws/codebuild/${var.name}"
  log_group_arn      = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  # The findings importer's contract (REPORTS_PREFIX): reports/<owner>/<repo>/<file>.
  reports_prefix = "reports/"
  bucket_arn     = var.report_bucket_name == null ? null : "arn:${local.partition}:s3:::${var.report_bucket_name}"
  dast           = length(var.dast_instance_arns) > 0
  document_name  = "${var.name}-zap"
  document_arn   = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:document/${local.document_name}"
  vpc_arn_prefix = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
}

################################################################################
# KMS key for the build log group and CodeBuild's own encryption
################################################################################

module "kms" {
  source = "../kms-key"

  create                  = var.create
  description             = "Tollgate CodeBuild scan ${var.name}: build logs and artifacts"
  deletion_window_in_days = var.kms_key_deletion_window_days
  tags                    = var.tags

  service_statements = [{
    sid     = "CloudWatchLogsEncryptsTheBuildLogGroup"
    service = "logs.${local.region}.amazonaws.com"
    actions = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    conditions = [{
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }]
  }]
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.key_arn
  tags              = var.tags
}

################################################################################
# Service role: its logs, its reports, and only what the buildspecs do
################################################################################

data "aws_iam_policy_document" "assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name               = "${var.name}-codebuild"
  description        = "Service role of the Tollgate CodeBuild scan ${var.name}."
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
  tags               = var.tags
}

data "aws_iam_policy_document" "permissions" {
  count = var.create ? 1 : 0

  statement {
    sid       = "WriteBuildLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  statement {
    sid       = "UseOwnKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [module.kms.key_arn]
  }

  dynamic "statement" {
    for_each = local.bucket_arn != null && var.repository != null ? [local.bucket_arn] : []

    content {
      sid       = "UploadReportsOfTheRepository"
      actions   = ["s3:PutObject"]
      resources = ["${statement.value}/${local.reports_prefix}${var.repository}/*"]
    }
  }

  dynamic "statement" {
    for_each = local.bucket_arn != null && local.dast ? [local.bucket_arn] : []

    content {
      sid       = "ReadZapReports"
      actions   = ["s3:GetObject"]
      resources = ["${statement.value}/${var.zap_report_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = var.report_kms_key_arn == null ? [] : [var.report_kms_key_arn]

    content {
      sid       = "EncryptAndDecryptReports"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.publish_to_security_hub ? [local.account_id] : []

    content {
      sid       = "ImportFindingsIntoOwnProduct"
      actions   = ["securityhub:BatchImportFindings"]
      resources = ["arn:${local.partition}:securityhub:${local.securityhub_region}:${local.account_id}:product/${local.account_id}/default"]

      condition {
        test     = "StringEquals"
        variable = "securityhub:TargetAccount"
        values   = [statement.value]
      }
    }
  }

  dynamic "statement" {
    for_each = var.publish_to_security_hub ? [local.securityhub_region] : []

    content {
      sid       = "ReadFindingsForLifecycle"
      actions   = ["securityhub:GetFindings"]
      resources = ["arn:${local.partition}:securityhub:${statement.value}:${local.account_id}:hub/default"]
    }
  }

  dynamic "statement" {
    for_each = local.dast ? [local.document_arn] : []

    content {
      sid       = "SendTheZapDocumentToTheDastInstances"
      actions   = ["ssm:SendCommand"]
      resources = concat([statement.value], var.dast_instance_arns)
    }
  }

  # GetCommandInvocation and CancelCommand have no resource-level permissions: "*" is the only resource.
  dynamic "statement" {
    for_each = local.dast ? ["ssm"] : []

    content {
      sid       = "FollowSsmCommands"
      actions   = ["ssm:GetCommandInvocation", "ssm:CancelCommand"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      sid       = "DescribeBuildNetwork"
      actions   = ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      sid     = "ManageBuildNetworkInterfaces"
      actions = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
      resources = concat(
        ["${local.vpc_arn_prefix}:network-interface/*"],
        [for subnet in statement.value.subnet_ids : "${local.vpc_arn_prefix}:subnet/${subnet}"],
        [for group in statement.value.security_group_ids : "${local.vpc_arn_prefix}:security-group/${group}"],
      )
    }
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      sid       = "AttachBuildNetworkInterfaces"
      actions   = ["ec2:CreateNetworkInterfacePermission"]
      resources = ["${local.vpc_arn_prefix}:network-interface/*"]

      condition {
        test     = "StringEquals"
        variable = "ec2:AuthorizedService"
        values   = ["codebuild.amazonaws.com"]
      }

      condition {
        test     = "ArnEquals"
        variable = "ec2:Subnet"
        values   = [for subnet in statement.value.subnet_ids : "${local.vpc_arn_prefix}:subnet/${subnet}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "tollgate-codebuild-scan"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.permissions[0].json
}

################################################################################
# Project
################################################################################

resource "aws_codebuild_project" "this" {
  count = var.create ? 1 : 0

  name           = var.name
  description    = "Tollgate security scan"
  service_role   = aws_iam_role.this[0].arn
  build_timeout  = var.build_timeout
  encryption_key = module.kms.key_arn
  tags           = var.tags

  source {
    type      = var.source_type
    location  = var.source_location
    buildspec = var.buildspec
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = var.compute_type
    image                       = var.build_image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    dynamic "environment_variable" {
      for_each = merge(var.environment_variables, {
        TOLLGATE_REPORT_BUCKET     = coalesce(var.report_bucket_name, "")
        TOLLGATE_ZAP_REPORT_PREFIX = var.zap_report_prefix
      })

      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this[0].name
      status     = "ENABLED"
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      vpc_id             = vpc_config.value.vpc_id
      subnets            = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.source_location != null
      error_message = "Set source_location to the repository's clone URL when create is true."
    }
  }
}

################################################################################
# DAST through SSM: the ZAP document, when instances are named
################################################################################

resource "aws_ssm_document" "this" {
  count = var.create && local.dast ? 1 : 0

  name            = local.document_name
  document_type   = "Command"
  document_format = "YAML"
  content         = templatefile("${path.module}/zap-document.yaml", { zap_image = var.zap_image })
  tags            = var.tags
}
