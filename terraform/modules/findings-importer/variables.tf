variable "create" {
  description = "Whether to create the importer and everything it needs."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the Lambda function; also used for its role, DLQ and log group."
  type        = string
  default     = "tollgate-findings-importer"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, hyphens or underscores (the role name appends -role)."
  }
}

variable "package_path" {
  description = "Path of the function's zip, as `make lambda-package` builds it (build/findings-importer.zip): normalizers/, pipeline/ and their dependencies for Lambda's Linux and Python 3.12. Required when create is true; plan checks that it exists."
  type        = string
  default     = null

  validation {
    condition     = var.package_path == null || can(regex("\\.zip$", var.package_path))
    error_message = "package_path must name the .zip that make lambda-package builds (build/findings-importer.zip)."
  }
}

variable "architecture" {
  description = "Instruction set of the function; the build directory's compiled wheels must match it."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB. A report is read and parsed in memory, so keep it several times max_report_bytes."
  type        = number
  default     = 2048

  validation {
    condition     = var.memory_size >= 256 && var.memory_size <= 10240
    error_message = "memory_size must be between 256 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout of one import in seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.timeout >= 30 && var.timeout <= 900
    error_message = "timeout must be between 30 and 900 seconds."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrent imports allowed. Security Hub allows 10 BatchImportFindings and 3 GetFindings requests per second per account and region, and each instance paces itself to that whole budget: keep 1, or split the rate with TOLLGATE_IMPORT_RATE in environment_variables."
  type        = number
  default     = 1

  validation {
    condition     = var.reserved_concurrent_executions >= 1 && var.reserved_concurrent_executions <= 20
    error_message = "reserved_concurrent_executions must be between 1 and 20 (0 would disable the function)."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed asynchronous invocation before the event goes to the DLQ."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "batch_size" {
  description = "S3 events the function takes from the queue per invocation."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10
    error_message = "batch_size must be between 1 and 10."
  }
}

variable "max_receive_count" {
  description = "Receives of an event before it moves to the DLQ. Throttled invocations of a function with reserved concurrency also count, so keep it generous."
  type        = number
  default     = 10

  validation {
    condition     = var.max_receive_count >= 3 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 3 and 1000."
  }
}

variable "refresh_days" {
  description = "Age of Security Hub's copy after which an unchanged finding is imported again (TOLLGATE_REFRESH_DAYS). Security Hub deletes findings not updated for 90 days."
  type        = number
  default     = 30

  validation {
    condition     = var.refresh_days >= 1 && var.refresh_days < 90
    error_message = "refresh_days must be at least 1 and under 90."
  }
}

variable "report_bucket_name" {
  description = "Name of the bucket reports are uploaded to (for example the report-bucket module's bucket_id). The function imports objects under reports/OWNER/REPO/."
  type        = string
  default     = null
}

variable "report_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the report bucket. Null when the bucket does not use SSE-KMS."
  type        = string
  default     = null
}

variable "manage_bucket_notification" {
  description = "Create the bucket's S3 event notification for ObjectCreated under reports/ to the event queue. A bucket has a single notification configuration: set false when it is managed elsewhere and add the queue (queue_arn) there."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention of at least one year (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "max_report_bytes" {
  description = "Largest report the function imports; a larger object is tagged as rejected without being read (TOLLGATE_MAX_REPORT_BYTES)."
  type        = number
  default     = 134217728

  validation {
    condition     = var.max_report_bytes >= 1048576
    error_message = "max_report_bytes must be at least 1 MiB."
  }
}

variable "environment_variables" {
  description = "Extra environment variables of the function (for example TOLLGATE_LOG_LEVEL). The module's own TOLLGATE_* variables take precedence."
  type        = map(string)
  default     = {}
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before the importer's KMS key (logs, DLQ, environment) is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}
