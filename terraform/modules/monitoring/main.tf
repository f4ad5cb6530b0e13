data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id # 5.x and 6.x: the region name (6.x deprecates .name for .region)
  account_id = data.aws_caller_identity.current.account_id

  create_trail        = var.create && var.enable_cloudtrail
  create_trail_bucket = local.create_trail && var.create_trail_bucket
  create_kms_key      = local.create_trail && var.create_kms_key
  create_alert_rules  = var.create && var.create_alert_rules

  trail_name        = "${var.name}-trail"
  trail_arn         = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}"
  trail_bucket_name = coalesce(var.trail_bucket_name, "${var.name}-cloudtrail-${local.account_id}-${local.region}")
  trail_bucket_arn  = "arn:${local.partition}:s3:::${local.trail_bucket_name}"
  kms_key_arn       = local.create_kms_key ? module.kms.key_arn : var.kms_key_arn

  # SOURCES.md A: alert on changes to NACLs, security groups, IAM users, roles and policies, access
  # keys, Lambda, S3 permissions and SSM. Names match by prefix, which also covers Lambda's
  # versioned names (CreateFunction20150331) and plural forms (DeleteParameters).
  api_changes = {
    network_acl = {
      description  = "Network ACL created, changed or deleted"
      source       = "aws.ec2"
      event_source = "ec2.amazonaws.com"
      event_names  = ["CreateNetworkAcl", "DeleteNetworkAcl", "ReplaceNetworkAcl"]
    }
    security_group = {
      description  = "Security group created, changed or deleted"
      source       = "aws.ec2"
      event_source = "ec2.amazonaws.com"
      event_names  = ["AuthorizeSecurityGroup", "RevokeSecurityGroup", "CreateSecurityGroup", "DeleteSecurityGroup", "ModifySecurityGroupRules"]
    }
    iam = {
      description  = "IAM user, role, group or policy changed"
      source       = "aws.iam"
      event_source = "iam.amazonaws.com"
      event_names = [
        "CreateUser", "DeleteUser", "CreateLoginProfile", "UpdateLoginProfile", "AddUserToGroup", "RemoveUserFromGroup",
        "CreateRole", "DeleteRole", "UpdateAssumeRolePolicy", "PutRolePermissionsBoundary", "PutUserPermissionsBoundary",
        "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy", "DetachUserPolicy", "DetachRolePolicy", "DetachGroupPolicy",
        "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "DeleteUserPolicy", "DeleteGroupPolicy",
        "CreatePolicy", "DeletePolicy", "SetDefaultPolicyVersion",
      ]
    }
    access_key = {
      description  = "IAM access key created, changed or deleted"
      source       = "aws.iam"
      event_source = "iam.amazonaws.com"
      event_names  = ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"]
    }
    lambda = {
      description  = "Lambda function code, configuration or permissions changed"
      source       = "aws.lambda"
      event_source = "lambda.amazonaws.com"
      event_names = [
        "CreateFunction", "DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration",
        "AddPermission", "RemovePermission", "CreateFunctionUrlConfig", "UpdateFunctionUrlConfig", "AddLayerVersionPermission",
      ]
    }
    s3_policy = {
      description  = "S3 bucket policy, ACL or public access block changed"
      source       = "aws.s3"
      event_source = "s3.amazonaws.com"
      event_names = [
        "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutBucketOwnershipControls",
        "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock",
      ]
    }
    ssm = {
      description  = "SSM command, session, parameter or document changed"
      source       = "aws.ssm"
      event_source = "ssm.amazonaws.com"
      event_names = [
        "SendCommand", "StartSession", "PutParameter", "DeleteParameter", "LabelParameterVersion",
        "CreateDocument", "UpdateDocument", "DeleteDocument", "ModifyDocumentPermission", "UpdateServiceSetting",
      ]
    }
  }

  # Tollgate's own SSM commands (the host audit's AWS-RunShellScript, the DAST ZAP document) sent by
  # Tollgate's roles are no alert. Any other caller, document or event still is: an event matches
  # when any of these is true.
  ssm_not_tollgates_own = length(var.ssm_tollgate_role_arns) == 0 ? {} : {
    "$or" = [
      { eventName = [{ "anything-but" = ["SendCommand"] }] },
      { userIdentity = { type = [{ "anything-but" = ["AssumedRole"] }] } },
      { userIdentity = { sessionContext = { sessionIssuer = { arn = [{ "anything-but" = var.ssm_tollgate_role_arns }] } } } },
      { requestParameters = { documentName = [{ "anything-but" = var.ssm_tollgate_documents }] } },
    ]
  }

  api_change_rules = {
    for key, change in local.api_changes : key => {
      description = change.description
      pattern = {
        source        = [change.source]
        "detail-type" = ["AWS API Call via CloudTrail"]
        detail = merge({
          eventSource = [change.event_source]
          eventName   = [for event_name in change.event_names : { prefix = event_name }]
        }, key == "ssm" ? local.ssm_not_tollgates_own : {})
      }
    } if contains(var.api_change_alerts, key)
  }

  guardduty_pattern = {
    source        = ["aws.guardduty"]
    "detail-type" = ["GuardDuty Finding"]
    detail = {
      severity = [{ numeric = [">=", var.guardduty_alert_min_severity] }]
    }
  }
  guardduty_rules = var.guardduty_alert_min_severity == null ? {} : {
    guardduty = {
      description = "GuardDuty finding of severity ${var.guardduty_alert_min_severity} or more"
      pattern     = local.guardduty_pattern
    }
  }

  # A for expression, not `? merge(...) : {}`: the rules are objects of different shapes, which a
  # conditional cannot unify with an empty map (the plan failed with inconsistent result types).
  alert_rules = { for key, rule in merge(local.api_change_rules, local.guardduty_rules) : key => rule if local.create_alert_rules }
}

################################################################################
# GuardDuty
################################################################################

resource "aws_guardduty_detector" "this" {
  count = var.create && var.enable_guardduty ? 1 : 0

  #checkov:skip=CKV2_AWS_3:Organization-wide enablement belongs to the delegated administrator account; this module enables the detector of one account.
  enable                       = true
  finding_publishing_frequency = var.guardduty_finding_publishing_frequency
  tags                         = var.tags
}

################################################################################
# CloudTrail: multi-region, KMS-encrypted, with log file validation
################################################################################

module "kms" {
  source = "../kms-key"

  create                  = local.create_kms_key
  description             = "Tollgate CloudTrail encryption"
  deletion_window_in_days = var.kms_key_deletion_window_days
  tags                    = var.tags

  service_statements = [
    {
      sid     = "CloudTrailEncryptsThisTrail"
      service = "cloudtrail.amazonaws.com"
      actions = ["kms:GenerateDataKey*"]
      conditions = [
        {
          test     = "StringEquals"
          variable = "aws:SourceArn"
          values   = [local.trail_arn]
        },
        {
          test     = "StringLike"
          variable = "kms:EncryptionContext:aws:cloudtrail:arn"
          values   = ["arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*"]
        },
      ]
    },
    {
      sid     = "CloudTrailDescribesKey"
      service = "cloudtrail.amazonaws.com"
      actions = ["kms:DescribeKey"]
      conditions = [{
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.trail_arn]
      }]
    },
  ]
}

# The key lived in this module before kms-key existed: keep it instead of replacing it.
moved {
  from = aws_kms_key.this
  to   = module.kms.aws_kms_key.this
}

data "aws_iam_policy_document" "trail_bucket" {
  count = local.create_trail_bucket ? 1 : 0

  statement {
    sid       = "CloudTrailChecksBucketAcl"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.trail_bucket_arn]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  statement {
    sid       = "CloudTrailWritesThisAccountsLogs"
    actions   = ["s3:PutObject"]
    resources = ["${local.trail_bucket_arn}/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

module "trail_bucket" {
  source = "../report-bucket"

  create                  = local.create_trail_bucket
  bucket_name             = local.trail_bucket_name
  create_kms_key          = false
  kms_key_arn             = local.kms_key_arn
  expiration_days         = var.trail_log_expiration_days
  access_logging          = var.trail_bucket_access_logging
  bucket_policy_documents = [for document in data.aws_iam_policy_document.trail_bucket : document.json]
  tags                    = var.tags
}

resource "aws_cloudtrail" "this" {
  count = local.create_trail ? 1 : 0

  #checkov:skip=CKV2_AWS_10:Alerting runs through EventBridge rules on the trail's events (below), not through CloudWatch Logs metric filters.
  #checkov:skip=CKV_AWS_252:Alerts go through EventBridge to the alerts topic; a per-log-file SNS notification would only add noise.
  name                          = local.trail_name
  s3_bucket_name                = local.create_trail_bucket ? module.trail_bucket.bucket_id : var.trail_bucket_name
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = local.kms_key_arn
  tags                          = var.tags

  lifecycle {
    precondition {
      condition     = var.create_trail_bucket || var.trail_bucket_name != null
      error_message = "Set trail_bucket_name when create_trail_bucket is false."
    }

    precondition {
      condition     = var.create_kms_key || var.kms_key_arn != null
      error_message = "Set kms_key_arn when create_kms_key is false."
    }
  }

  # The bucket policy must let CloudTrail write before the trail is created.
  depends_on = [module.trail_bucket]
}

################################################################################
# Alerts: high-risk API changes and severe GuardDuty findings -> alerts topic
################################################################################

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.alert_rules

  name          = "${var.name}-${replace(each.key, "_", "-")}-alert"
  description   = each.value.description
  event_pattern = jsonencode(each.value.pattern)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.alert_rules

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = "alerts-topic"
  arn       = var.alerts_topic_arn

  lifecycle {
    precondition {
      condition     = var.alerts_topic_arn != null
      error_message = "Set alerts_topic_arn (or create_alert_rules = false)."
    }
  }
}
