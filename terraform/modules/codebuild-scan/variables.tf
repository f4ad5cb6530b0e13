variable "create" {
  description = "Whether to create the CodeBuild project and everything it needs."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the CodeBuild project; also used for its role, log group and SSM document."
  type        = string
  default     = "tollgate-scan"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,50}$", var.name))
    error_message = "name must be 2-51 letters, digits, hyphens or underscores, starting with a letter or digit."
  }
}

variable "repository" {
  description = "The repository scanned, as owner/name: the project may upload reports under reports/OWNER/NAME/ only (the findings importer's key)."
  type        = string
  default     = null

  validation {
    condition     = var.repository == null || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be owner/name."
  }
}

variable "source_type" {
  description = "Type of the build source: GITHUB, GITHUB_ENTERPRISE, GITLAB, GITLAB_SELF_MANAGED, BITBUCKET, CODECOMMIT or S3."
  type        = string
  default     = "GITHUB"

  validation {
    condition     = contains(["GITHUB", "GITHUB_ENTERPRISE", "GITLAB", "GITLAB_SELF_MANAGED", "BITBUCKET", "CODECOMMIT", "S3"], var.source_type)
    error_message = "source_type must be GITHUB, GITHUB_ENTERPRISE, GITLAB, GITLAB_SELF_MANAGED, BITBUCKET, CODECOMMIT or S3."
  }
}

variable "source_location" {
  description = "Clone URL of the repository (or bucket/key of an S3 source). Tollgate reads the repository name from it (CODEBUILD_SOURCE_REPO_URL)."
  type        = string
  default     = null
}

variable "buildspec" {
  description = "Path of the buildspec in the repository, or the buildspec itself (see examples/codebuild)."
  type        = string
  default     = "buildspec-tollgate.yml"
}

variable "build_image" {
  description = "CodeBuild image; the standard image has Python 3.12 for pip install tollgate."
  type        = string
  default     = "aws/codebuild/standard:7.0"
}

variable "compute_type" {
  description = "CodeBuild compute type."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "build_timeout" {
  description = "Minutes a build may run before CodeBuild stops it."
  type        = number
  default     = 60

  validation {
    condition     = var.build_timeout >= 5 && var.build_timeout <= 2160
    error_message = "build_timeout must be between 5 and 2160 minutes."
  }
}

variable "environment_variables" {
  description = "Plain environment variables of the build (never secrets: use Parameter Store or Secrets Manager in the buildspec)."
  type        = map(string)
  default     = {}
}

variable "report_bucket_name" {
  description = "Name of the report bucket (for example the report-bucket module's bucket_id). Null: the project uploads nothing."
  type        = string
  default     = null
}

variable "report_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the report bucket. Null when the bucket does not use SSE-KMS."
  type        = string
  default     = null
}

variable "publish_to_security_hub" {
  description = "Allow the build to import findings into this account's Security Hub directly (tollgate publish securityhub)."
  type        = bool
  default     = false
}

variable "securityhub_region" {
  description = "Region of Security Hub when it differs from the provider's (an aggregation region). Null: the provider's."
  type        = string
  default     = null
}

variable "dast_instance_arns" {
  description = "ARNs of the EC2 instances the build may send the ZAP SSM document to. Non-empty creates the document."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.dast_instance_arns : can(regex("^arn:[a-z-]+:ec2:[a-z0-9-]+:[0-9]{12}:instance/i-[0-9a-f]{8,17}$", arn))])
    error_message = "dast_instance_arns must be EC2 instance ARNs, never a wildcard."
  }
}

variable "zap_image" {
  description = "ZAP image the SSM document runs, pinned by digest (ghcr.io/zaproxy/zaproxy:stable, ZAP 2.17.0)."
  type        = string
  default     = "ghcr.io/zaproxy/zaproxy@sha256:781a2bdaea47324e7bab583e2263f21d257b0aee61ed51521a5be45f5f5081ef"

  validation {
    condition     = can(regex("^[a-z0-9./-]+@sha256:[0-9a-f]{64}$", var.zap_image))
    error_message = "zap_image must be pinned by digest (name@sha256:...)."
  }
}

variable "zap_report_prefix" {
  description = "Prefix in the report bucket where the instance writes ZAP reports and the build reads them (zap-ssm's report-prefix)."
  type        = string
  default     = "tollgate/dast/"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9/_.-]*/$", var.zap_report_prefix))
    error_message = "zap_report_prefix must be a key prefix ending in a slash."
  }
}

variable "vpc_config" {
  description = "Run builds in a VPC (to reach a private DAST target or a registry mirror): its id, private subnets and security groups. Null: no VPC."
  type = object({
    vpc_id             = string
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "log_retention_days" {
  description = "Retention of the build log group in days."
  type        = number
  default     = 365
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before the project's KMS key (logs, build artifacts) is deleted."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}
