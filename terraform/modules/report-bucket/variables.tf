variable "create" {
  description = "Whether to create the bucket and everything in this module."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Exact bucket name. When null, Terraform picks a unique name that starts with bucket_prefix."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit."
  }
}

variable "bucket_prefix" {
  description = "Prefix of the generated bucket name, used when bucket_name is null."
  type        = string
  default     = "tollgate-reports-"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{0,35}$", var.bucket_prefix))
    error_message = "bucket_prefix must be at most 37 lowercase letters, digits, dots or hyphens (S3 appends 26 characters)."
  }
}

variable "force_destroy" {
  description = "Delete every object version when the bucket is destroyed. Leave false for report archives."
  type        = bool
  default     = false
}

variable "create_kms_key" {
  description = "Create a customer managed KMS key for the bucket. When false, kms_key_arn is used."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for SSE-KMS, used when create_kms_key is false."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before a created KMS key is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be between 7 and 30."
  }
}

variable "expiration_days" {
  description = "Days after which current object versions expire."
  type        = number
  default     = 365

  validation {
    condition     = var.expiration_days >= 1
    error_message = "expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent (overwritten or deleted) object versions are removed."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days must be at least 1."
  }
}

variable "access_logging" {
  description = "Server access logging target. Null disables access logging; the target bucket must allow logging.s3.amazonaws.com to write."
  type = object({
    target_bucket = string
    target_prefix = optional(string, "s3-access-logs/")
  })
  default = null
}

variable "bucket_policy_documents" {
  description = "Extra IAM policy JSON documents merged into the bucket policy, e.g. CloudTrail's write access."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
