data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  oidc_host  = "token.actions.githubusercontent.com"
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.id # 5.x and 6.x: the region name (6.x deprecates .name for .region)
  # Security Hub may live in an aggregation region; the bucket is in the provider's region.
  securityhub_region = coalesce(var.securityhub_region, local.region)

  # Every subject pins repo:owner/name; wildcards can only appear in the ref part.
  branch_subjects = [
    for pair in setproduct(var.repositories, var.branches) : "repo:${pair[0]}:ref:refs/heads/${pair[1]}"
  ]
  environment_subjects = [
    for pair in setproduct(var.repositories, var.environments) : "repo:${pair[0]}:environment:${pair[1]}"
  ]
  pull_request_subjects = var.allow_pull_requests ? [for repository in var.repositories : "repo:${repository}:pull_request"] : []
  subjects              = distinct(concat(local.branch_subjects, local.environment_subjects, local.pull_request_subjects, var.subjects))

  # The findings importer reads the repository from the key (reports/<owner>/<repo>/...), so the
  # role may write only under the prefixes of the repositories it trusts.
  reports_prefix       = "reports/"
  trusted_repositories = distinct(concat(var.repositories, [for subject in var.subjects : regex("^repo:([^/:]+/[^/:]+):", subject)[0]]))

  # The host audit may target an EC2 instance (i-) or a hybrid managed instance (mi-).
  host_audit_instances = [
    "arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*",
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:managed-instance/*",
  ]
  host_audit_output = var.host_audit_output_bucket_arn == null ? null : "${var.host_audit_output_bucket_arn}/${var.host_audit_output_prefix}/*"

  oidc_provider_arn = try(aws_iam_openid_connect_provider.this[0].arn, data.aws_iam_openid_connect_provider.this[0].arn, null)
}

################################################################################
# GitHub OIDC provider: created here, or the account's existing one
################################################################################

resource "aws_iam_openid_connect_provider" "this" {
  count = var.create && var.create_oidc_provider ? 1 : 0

  url             = "https://${local.oidc_host}"
  client_id_list  = [var.audience]
  thumbprint_list = var.oidc_thumbprints
  tags            = var.tags
}

data "aws_iam_openid_connect_provider" "this" {
  count = var.create && !var.create_oidc_provider ? 1 : 0

  url = "https://${local.oidc_host}"
}

################################################################################
# Role: trusted only for the given repositories, refs and environments
################################################################################

data "aws_iam_policy_document" "trust" {
  count = var.create ? 1 : 0

  statement {
    sid     = "GitHubActionsOidc"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = [var.audience]
    }

    condition {
      test     = "StringLike"
      variable = "${local.oidc_host}:sub"
      values   = local.subjects
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = var.name
  path                 = var.path
  description          = "Assumed by Tollgate's GitHub Actions workflows through OIDC."
  assume_role_policy   = data.aws_iam_policy_document.trust[0].json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = length(local.subjects) > 0
      error_message = "Trust at least one subject: set repositories (with branches or environments) or subjects."
    }
  }
}

################################################################################
# Permissions: publish findings and upload reports (and the host audit, when allowed)
################################################################################

data "aws_iam_policy_document" "permissions" {
  count = var.create ? 1 : 0

  # The host audit's statements, when allowed (below).
  source_policy_documents = data.aws_iam_policy_document.host_audit[*].json

  statement {
    sid       = "ImportFindingsIntoOwnProduct"
    actions   = ["securityhub:BatchImportFindings"]
    resources = ["arn:${local.partition}:securityhub:${local.securityhub_region}:${local.account_id}:product/${local.account_id}/default"]

    condition {
      test     = "StringEquals"
      variable = "securityhub:TargetAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "ReadFindingsForLifecycle"
    actions   = ["securityhub:GetFindings"]
    resources = ["arn:${local.partition}:securityhub:${local.securityhub_region}:${local.account_id}:hub/default"]
  }

  dynamic "statement" {
    for_each = var.report_bucket_arn == null ? [] : [var.report_bucket_arn]

    content {
      sid       = "UploadReportsOfTrustedRepositories"
      actions   = ["s3:PutObject"]
      resources = [for repository in local.trusted_repositories : "${statement.value}/${local.reports_prefix}${repository}/*"]
    }
  }

  dynamic "statement" {
    for_each = var.report_kms_key_arn == null ? [] : [var.report_kms_key_arn]

    content {
      sid = "EncryptReports"
      # Decrypt is needed for multipart uploads, which boto3 uses above 8 MB.
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

################################################################################
# Host audit through SSM Run Command, when allowed: tagged instances only
################################################################################

data "aws_iam_policy_document" "host_audit" {
  count = var.create && var.allow_host_audit ? 1 : 0

  # Two statements: the tag condition must not apply to the document, which has no tags.
  statement {
    sid       = "SendTheShellScriptDocument"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:${local.partition}:ssm:${local.region}::document/AWS-RunShellScript"]
  }

  statement {
    sid       = "SendCommandsToTaggedInstances"
    actions   = ["ssm:SendCommand"]
    resources = local.host_audit_instances

    dynamic "condition" {
      for_each = var.host_audit_instance_tags

      content {
        test     = "StringEquals"
        variable = "ssm:resourceTag/${condition.key}"
        values   = [condition.value]
      }
    }
  }

  # GetCommandInvocation and CancelCommand have no resource-level permissions: "*" is the only resource.
  statement {
    sid       = "FollowSsmCommands"
    actions   = ["ssm:GetCommandInvocation", "ssm:CancelCommand"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.host_audit_output_bucket_arn == null ? [] : [var.host_audit_output_bucket_arn]

    content {
      sid       = "ListTheHostAuditOutput"
      actions   = ["s3:ListBucket"]
      resources = [statement.value]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${var.host_audit_output_prefix}/*"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.host_audit_output == null ? [] : [local.host_audit_output]

    content {
      sid       = "ReadTheHostAuditOutput"
      actions   = ["s3:GetObject"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "tollgate-publish"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.permissions[0].json
}
