data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id # 5.x and 6.x: the region name (6.x deprecates .name for .region)
  account_id = data.aws_caller_identity.current.account_id

  handler = "pipeline.publish.lambda_handler.handler"
  runtime = "python3.12"
  # The handler's contract (REPORTS_PREFIX): keys are reports/<owner>/<repo>/<file>, and the
  # repository of the findings is read from the key.
  reports_prefix = "reports/"
  log_group_name = "/aws/lambda/${var.name}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  bucket_arn     = var.report_bucket_name == null ? null : "arn:${local.partition}:s3:::${var.report_bucket_name}"
  reports_arn    = var.report_bucket_name == null ? null : "${local.bucket_arn}/${local.reports_prefix}*"

  environment = merge(var.environment_variables, {
    TOLLGATE_MAX_REPORT_BYTES = tostring(var.max_report_bytes)
    TOLLGATE_REFRESH_DAYS     = tostring(var.refresh_days)
  })

  # Lambda's guidance for SQS triggers: a visibility timeout of six times the function's timeout, so
  # a batch still running is never handed out twice.
  queue_name = "${var.name}-events"
  queue_arn  = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.queue_name}"
  dlq_arn    = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${var.name}-dlq"
  queues = {
    events = { name = local.queue_name, visibility_timeout = 6 * var.timeout }
    dlq    = { name = "${var.name}-dlq", visibility_timeout = 30 }
  }
}

################################################################################
# KMS key for the log group, the DLQ and the environment variables
################################################################################

module "kms" {
  source = "../kms-key"

  create                  = var.create
  description             = "Tollgate findings importer: logs, queues and environment"
  deletion_window_in_days = var.kms_key_deletion_window_days
  tags                    = var.tags

  service_statements = concat([{
    sid     = "CloudWatchLogsEncryptsTheImporterLogGroup"
    service = "logs.${local.region}.amazonaws.com"
    actions = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    conditions = [{
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }]
    }], var.report_bucket_name == null ? [] : [{
    # S3 encrypts each event notification it sends to the (SSE-KMS) event queue.
    sid     = "ReportBucketSendsEventsToTheQueue"
    service = "s3.amazonaws.com"
    actions = ["kms:GenerateDataKey", "kms:Decrypt"]
    conditions = [
      {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [local.bucket_arn]
      },
      {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      },
    ]
  }])
}

# The key lived in this module before kms-key existed: keep it instead of replacing it.
moved {
  from = aws_kms_key.this
  to   = module.kms.aws_kms_key.this
}

################################################################################
# Log group and dead-letter queue
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.key_arn
  tags              = var.tags
}

# Two queues: the event queue (S3 -> SQS -> one consumer, so an organisation's bursts wait there
# instead of exceeding the account's Security Hub quota) and its dead-letter queue. A message whose
# import failed max_receive_count times (throttling that outlived every retry, a Security Hub outage)
# is kept in the DLQ for 14 days, never dropped; the function's own asynchronous DLQ is the same one.
resource "aws_sqs_queue" "this" {
  for_each = var.create ? local.queues : {}

  name                              = each.value.name
  kms_master_key_id                 = module.kms.key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600
  visibility_timeout_seconds        = each.value.visibility_timeout
  tags                              = var.tags

  redrive_policy = each.key == "events" ? jsonencode({
    deadLetterTargetArn = local.dlq_arn
    maxReceiveCount     = var.max_receive_count
  }) : null
}

moved {
  from = aws_sqs_queue.this[0]
  to   = aws_sqs_queue.this["dlq"]
}

resource "aws_sqs_queue_redrive_allow_policy" "this" {
  count = var.create ? 1 : 0

  queue_url = aws_sqs_queue.this["dlq"].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.queue_arn]
  })
}

data "aws_iam_policy_document" "events_queue" {
  count = var.create && var.report_bucket_name != null ? 1 : 0

  statement {
    sid       = "ReportBucketSendsObjectCreatedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [local.queue_arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.bucket_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  count = var.create && var.report_bucket_name != null ? 1 : 0

  queue_url = aws_sqs_queue.this["events"].id
  policy    = data.aws_iam_policy_document.events_queue[0].json
}

################################################################################
# Execution role: read and tag reports, import findings, nothing else
################################################################################

data "aws_iam_policy_document" "assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name               = "${var.name}-role"
  description        = "Execution role of the Tollgate findings importer."
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
  tags               = var.tags
}

data "aws_iam_policy_document" "permissions" {
  count = var.create ? 1 : 0

  lifecycle {
    precondition {
      condition     = var.report_bucket_name != null
      error_message = "Set report_bucket_name when create is true."
    }
  }

  statement {
    sid       = "ReadReports"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.reports_arn]
  }

  # The handler tags each report tollgate-status=imported or rejected (keeping other tags).
  statement {
    sid       = "TagRejectedReports"
    actions   = ["s3:GetObjectTagging", "s3:GetObjectVersionTagging", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
    resources = [local.reports_arn]
  }

  dynamic "statement" {
    for_each = var.report_kms_key_arn == null ? [] : [var.report_kms_key_arn]

    content {
      sid       = "DecryptReports"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
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

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  statement {
    sid       = "SendFailedEventsToDlq"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this["dlq"].arn]
  }

  statement {
    sid       = "ConsumeTheEventQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.this["events"].arn]
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

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "tollgate-import-findings"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.permissions[0].json
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_117:The function only calls the S3 and Security Hub APIs; a VPC would add NAT or endpoints and no protection.
  #checkov:skip=CKV_AWS_272:The package is built from this repository in CI and deployed by Terraform; code signing is left to the caller's pipeline.
  function_name                  = var.name
  description                    = "Imports Tollgate reports uploaded under ${local.reports_prefix} of the report bucket into Security Hub."
  role                           = aws_iam_role.this[0].arn
  runtime                        = local.runtime
  handler                        = local.handler
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = module.kms.key_arn

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.this["dlq"].arn
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this[0].name
  }

  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]

  lifecycle {
    # At plan, not validate: the package is built just before apply, and validate runs without it.
    precondition {
      condition     = try(fileexists(var.package_path), false) # null or a folder: false
      error_message = "package_path names no file: run make lambda-package (it writes build/findings-importer.zip) and pass its path."
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.create ? 1 : 0

  function_name                = aws_lambda_function.this[0].function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = 21600
}

################################################################################
# Trigger: ObjectCreated under the reports prefix -> event queue -> function
################################################################################

# Failed messages come back in batchItemFailures: only they are retried, after the visibility
# timeout, and they move to the DLQ after max_receive_count receives.
resource "aws_lambda_event_source_mapping" "this" {
  count = var.create ? 1 : 0

  event_source_arn                   = aws_sqs_queue.this["events"].arn
  function_name                      = aws_lambda_function.this[0].arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = 5
  function_response_types            = ["ReportBatchItemFailures"]

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_s3_bucket_notification" "this" {
  count = var.create && var.manage_bucket_notification ? 1 : 0

  bucket = var.report_bucket_name

  queue {
    queue_arn     = aws_sqs_queue.this["events"].arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = local.reports_prefix
  }

  depends_on = [aws_sqs_queue_policy.this]
}
