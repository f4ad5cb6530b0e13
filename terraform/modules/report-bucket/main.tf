locals {
  create_kms_key = var.create && var.create_kms_key
  kms_key_arn    = local.create_kms_key ? module.kms.key_arn : var.kms_key_arn
  bucket_arn     = try(aws_s3_bucket.this[0].arn, "")
}

################################################################################
# KMS key (optional: a given key can be used instead)
################################################################################

module "kms" {
  source = "../kms-key"

  create                  = local.create_kms_key
  description             = "Tollgate report bucket encryption"
  deletion_window_in_days = var.kms_key_deletion_window_days
  tags                    = var.tags
}

# The key lived in this module before kms-key existed: keep it instead of replacing it.
moved {
  from = aws_kms_key.this
  to   = module.kms.aws_kms_key.this
}

################################################################################
# Bucket
################################################################################

resource "aws_s3_bucket" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_144:Reports are reproducible scanner output; cross-region replication is the caller's choice, not a default.
  #checkov:skip=CKV2_AWS_62:Event notifications are owned by the findings-importer module (one notification configuration per bucket).
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? var.bucket_prefix : null
  force_destroy = var.force_destroy
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = var.create_kms_key || var.kms_key_arn != null
      error_message = "Set kms_key_arn when create_kms_key is false."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.create ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "expire-reports"
    status = "Enabled"

    filter {}

    expiration {
      days = var.expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  # Expiry on a versioned bucket needs versioning to exist first.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = var.create && var.access_logging != null ? 1 : 0

  bucket        = aws_s3_bucket.this[0].id
  target_bucket = var.access_logging.target_bucket
  target_prefix = var.access_logging.target_prefix
}

################################################################################
# Bucket policy: TLS only, plus the caller's extra statements
################################################################################

data "aws_iam_policy_document" "bucket" {
  count = var.create ? 1 : 0

  source_policy_documents = var.bucket_policy_documents

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOutdatedTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.bucket[0].json

  # A policy put before the public access block exists can be rejected as public.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
