data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.id # 5.x and 6.x: the region name (6.x deprecates .name for .region)
  account_id    = data.aws_caller_identity.current.account_id
  create_alerts = var.create && var.create_alerts

  # What normalizers/emit/asff.py writes on every Tollgate finding (ProductName, and GeneratorId
  # tollgate/<tool>/<rule>); tests/terraform/test_terraform.py checks both against the emitter.
  product_name     = "Tollgate"
  generator_prefix = "tollgate/"

  # CIS 1.2.0 is a global "ruleset"; later versions are regional standards.
  cis_arn = var.standards.cis_version == "1.2.0" ? "arn:${local.partition}:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0" : "arn:${local.partition}:securityhub:${local.region}::standards/cis-aws-foundations-benchmark/v/${var.standards.cis_version}"
  all_standards = {
    aws_foundational_security_best_practices = "arn:${local.partition}:securityhub:${local.region}::standards/aws-foundational-security-best-practices/v/1.0.0"
    cis_aws_foundations_benchmark            = local.cis_arn
  }
  standards = var.create ? { for key, arn in local.all_standards : key => arn if var.standards[key] } : {}

  # Open = active and not yet resolved or suppressed by a person. Insights cannot group by a
  # ProductFields key, so they group by what the emitter puts in grouping attributes:
  # ResourceId is the repository (owner/name) for code, package and secret findings, and the
  # URL or image for DAST and image findings; GeneratorId is tollgate/<tool>/<rule>.
  insights = var.create && var.create_insights ? {
    open_by_repository = {
      name       = "Tollgate: open findings by repository or target"
      group_by   = "ResourceId"
      severities = []
    }
    open_by_tool = {
      name       = "Tollgate: open findings by tool and rule"
      group_by   = "GeneratorId"
      severities = []
    }
    open_critical_or_high = {
      name       = "Tollgate: open critical or high findings by repository or target"
      group_by   = "ResourceId"
      severities = ["CRITICAL", "HIGH"]
    }
  } : {}

  # Every import emits "Findings - Imported", so the rule fires only on the imports that
  # pipeline/publish/lifecycle.py marks with tollgate/Alert: a first sighting or a severity increase.
  # Refreshes, unchanged re-runs and archiving carry no mark. A finding someone resolved or
  # suppressed stays quiet.
  alert_marks = ["FirstSeen", "SeverityIncreased"]
  alert_event_pattern = {
    source      = ["aws.securityhub"]
    detail-type = ["Security Hub Findings - Imported"]
    detail = {
      findings = {
        ProductName   = [local.product_name]
        GeneratorId   = [{ prefix = local.generator_prefix }]
        Severity      = { Label = var.alert_severities }
        RecordState   = ["ACTIVE"]
        Workflow      = { Status = ["NEW", "NOTIFIED"] }
        ProductFields = { "tollgate/Alert" = local.alert_marks }
      }
    }
  }
}

################################################################################
# Security Hub and standards
################################################################################

resource "aws_securityhub_account" "this" {
  count = var.create && var.enable_security_hub ? 1 : 0

  enable_default_standards  = false
  control_finding_generator = var.control_finding_generator
  auto_enable_controls      = var.auto_enable_controls
}

# The new Security Hub (OCSF, EnableSecurityHubV2) beside CSPM. hashicorp/aws has no native resource
# for it (5.100 has none), so it is the CloudFormation type AWS::SecurityHub::HubV2 through the Cloud
# Control API. Tollgate still imports through CSPM's BatchImportFindings (there is no
# BatchImportFindingsV2), so CSPM stays enabled: docs/security-hub.md.
resource "aws_cloudcontrolapi_resource" "this" {
  count = var.create && var.enable_security_hub_v2 ? 1 : 0

  type_name     = "AWS::SecurityHub::HubV2"
  desired_state = jsonencode({ Tags = var.tags })

  depends_on = [aws_securityhub_account.this]
}

resource "aws_securityhub_standards_subscription" "this" {
  for_each = local.standards

  standards_arn = each.value

  depends_on = [aws_securityhub_account.this]
}

resource "aws_securityhub_finding_aggregator" "this" {
  count = var.create && var.finding_aggregator != null ? 1 : 0

  linking_mode      = var.finding_aggregator.linking_mode
  specified_regions = var.finding_aggregator.linking_mode == "ALL_REGIONS" ? null : var.finding_aggregator.regions

  depends_on = [aws_securityhub_account.this]
}

################################################################################
# Insights over Tollgate's findings
################################################################################

resource "aws_securityhub_insight" "this" {
  for_each = local.insights

  name               = each.value.name
  group_by_attribute = each.value.group_by

  filters {
    product_name {
      comparison = "EQUALS"
      value      = local.product_name
    }

    generator_id {
      comparison = "PREFIX"
      value      = local.generator_prefix
    }

    record_state {
      comparison = "EQUALS"
      value      = "ACTIVE"
    }

    # Several values of one attribute are ORed by Security Hub.
    dynamic "workflow_status" {
      for_each = ["NEW", "NOTIFIED"]

      content {
        comparison = "EQUALS"
        value      = workflow_status.value
      }
    }

    dynamic "severity_label" {
      for_each = each.value.severities

      content {
        comparison = "EQUALS"
        value      = severity_label.value
      }
    }
  }

  depends_on = [aws_securityhub_account.this]
}

################################################################################
# Alerts: imported HIGH/CRITICAL Tollgate findings -> EventBridge -> SNS (KMS)
################################################################################

# EventBridge needs the data key to publish to an encrypted topic; the topic policy limits
# publishing to rules of this account.
module "kms" {
  source = "../kms-key"

  create                  = local.create_alerts
  description             = "Tollgate alerts topic encryption"
  deletion_window_in_days = var.kms_key_deletion_window_days
  tags                    = var.tags

  service_statements = [{
    sid     = "EventBridgePublishesToEncryptedTopic"
    service = "events.amazonaws.com"
    actions = ["kms:GenerateDataKey*", "kms:Decrypt"]
  }]
}

# The key lived in this module before kms-key existed: keep it instead of replacing it.
moved {
  from = aws_kms_key.this
  to   = module.kms.aws_kms_key.this
}

resource "aws_sns_topic" "this" {
  count = local.create_alerts ? 1 : 0

  name              = var.alerts_topic_name
  kms_master_key_id = module.kms.key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  count = local.create_alerts ? 1 : 0

  statement {
    sid       = "EventBridgeRulesOfThisAccountPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  count = local.create_alerts ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

resource "aws_cloudwatch_event_rule" "this" {
  count = local.create_alerts ? 1 : 0

  name          = "${var.alerts_topic_name}-securityhub-findings"
  description   = "Imported Tollgate findings of severity ${join(", ", var.alert_severities)} that nobody has triaged yet."
  event_pattern = jsonencode(local.alert_event_pattern)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.create_alerts ? 1 : 0

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "sns"
  arn       = aws_sns_topic.this[0].arn
}
