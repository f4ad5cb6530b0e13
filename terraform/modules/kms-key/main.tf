data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

################################################################################
# Key policy: the account administers the key through IAM; services only use it
################################################################################

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  # In a key policy, "*" means this key. Granting the account root kms:* delegates access to IAM
  # policies, as AWS's default key policy does; without it the key can become unmanageable.
  #checkov:skip=CKV_AWS_109:Key policy statement: the resource is this key only, and root delegation is AWS's default key policy.
  #checkov:skip=CKV_AWS_111:Key policy statement: the resource is this key only, and root delegation is AWS's default key policy.
  #checkov:skip=CKV_AWS_356:Key policy statement: "*" in a key policy means this key, not every resource.
  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  dynamic "statement" {
    for_each = var.service_statements

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

################################################################################
# Key: rotation always on
################################################################################

resource "aws_kms_key" "this" {
  count = var.create ? 1 : 0

  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.this[0].json
  tags                    = var.tags
}
