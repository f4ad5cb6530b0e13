variable "create" {
  description = "Whether to create anything in this module."
  type        = bool
  default     = true
}

variable "name" {
  description = "Prefix of the trail, the EventBridge rules and the generated bucket name."
  type        = string
  default     = "tollgate"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,19}$", var.name))
    error_message = "name must be 1-20 lowercase letters, digits or hyphens (it becomes part of a bucket name)."
  }
}

variable "enable_guardduty" {
  description = "Create a GuardDuty detector in this account and region. Set false when GuardDuty is managed by an organization administrator."
  type        = bool
  default     = true
}

variable "guardduty_finding_publishing_frequency" {
  description = "How often GuardDuty publishes updates of existing findings to EventBridge."
  type        = string
  default     = "FIFTEEN_MINUTES"

  validation {
    condition     = contains(["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"], var.guardduty_finding_publishing_frequency)
    error_message = "guardduty_finding_publishing_frequency must be FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS."
  }
}

variable "enable_cloudtrail" {
  description = "Create a multi-region CloudTrail trail. EventBridge only receives the API-change events below while a trail records management events."
  type        = bool
  default     = true
}

variable "create_trail_bucket" {
  description = "Create a hardened bucket (through the report-bucket module) for the trail. When false, trail_bucket_name must name a bucket whose policy already lets CloudTrail write."
  type        = bool
  default     = true
}

variable "trail_bucket_name" {
  description = "Name of the trail's bucket. Null with create_trail_bucket generates NAME-cloudtrail-ACCOUNT-REGION."
  type        = string
  default     = null
}

variable "trail_log_expiration_days" {
  description = "Days after which CloudTrail log files in a created bucket expire."
  type        = number
  default     = 365

  validation {
    condition     = var.trail_log_expiration_days >= 90
    error_message = "trail_log_expiration_days must be at least 90, the window CloudTrail's own event history keeps."
  }
}

variable "trail_bucket_access_logging" {
  description = "Server access logging of a created trail bucket. Null disables it."
  type = object({
    target_bucket = string
    target_prefix = optional(string, "s3-access-logs/")
  })
  default = null
}

variable "create_kms_key" {
  description = "Create the KMS key that encrypts the trail and its bucket. When false, kms_key_arn must allow CloudTrail to use it."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for the trail, used when create_kms_key is false."
  type        = string
  default     = null
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

variable "create_alert_rules" {
  description = "Create the EventBridge rules that send high-risk API changes and severe GuardDuty findings to alerts_topic_arn."
  type        = bool
  default     = true
}

variable "alerts_topic_arn" {
  description = "ARN of the SNS topic that receives the alerts, e.g. the security-hub module's alerts_topic_arn. Its policy must let EventBridge rules of this account publish."
  type        = string
  default     = null
}

variable "api_change_alerts" {
  description = "Groups of high-risk API changes that raise an alert: network_acl, security_group, iam, access_key, lambda, s3_policy, ssm."
  type        = set(string)
  default     = ["network_acl", "security_group", "iam", "access_key", "lambda", "s3_policy", "ssm"]

  validation {
    condition     = length(setsubtract(var.api_change_alerts, ["network_acl", "security_group", "iam", "access_key", "lambda", "s3_policy", "ssm"])) == 0
    error_message = "api_change_alerts may only hold network_acl, security_group, iam, access_key, lambda, s3_policy and ssm."
  }
}

variable "guardduty_alert_min_severity" {
  description = "Lowest GuardDuty severity (1.0-10.0) that raises an alert. Null sends no GuardDuty alerts."
  type        = number
  default     = 8

  validation {
    condition     = var.guardduty_alert_min_severity == null ? true : var.guardduty_alert_min_severity >= 1 && var.guardduty_alert_min_severity <= 10
    error_message = "guardduty_alert_min_severity must be between 1 and 10."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "ssm_tollgate_role_arns" {
  description = "IAM roles Tollgate runs as (the github-oidc-role and codebuild-scan roles): their SendCommand of ssm_tollgate_documents is Tollgate's own host audit or DAST and raises no ssm alert. Empty alerts on every SSM command."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.ssm_tollgate_role_arns : can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/.+$", arn))])
    error_message = "ssm_tollgate_role_arns must be IAM role ARNs."
  }
}

variable "ssm_tollgate_documents" {
  description = "SSM documents Tollgate sends from ssm_tollgate_role_arns: AWS-RunShellScript (the host audit) and the codebuild-scan module's ZAP document."
  type        = list(string)
  default     = ["AWS-RunShellScript", "tollgate-scan-zap"]
}
