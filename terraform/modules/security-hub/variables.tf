variable "create" {
  description = "Whether to create anything in this module."
  type        = bool
  default     = true
}

variable "enable_security_hub" {
  description = "Enable Security Hub in this account and region. Set false when it is already enabled (for example by a delegated administrator); standards, insights and alerts are still managed."
  type        = bool
  default     = true
}

variable "enable_security_hub_v2" {
  description = "Also enable the new Security Hub (EnableSecurityHubV2, the OCSF console) through the Cloud Control API type AWS::SecurityHub::HubV2. Tollgate's findings still enter through Security Hub CSPM, which must stay enabled."
  type        = bool
  default     = false
}

variable "control_finding_generator" {
  description = "How control findings are generated: SECURITY_CONTROL (one finding per control) or STANDARD_CONTROL (one per standard)."
  type        = string
  default     = "SECURITY_CONTROL"

  validation {
    condition     = contains(["SECURITY_CONTROL", "STANDARD_CONTROL"], var.control_finding_generator)
    error_message = "control_finding_generator must be SECURITY_CONTROL or STANDARD_CONTROL."
  }
}

variable "auto_enable_controls" {
  description = "Enable new controls of subscribed standards automatically."
  type        = bool
  default     = true
}

variable "standards" {
  description = "Security standards to subscribe to: AWS Foundational Security Best Practices and the CIS AWS Foundations Benchmark (version 1.2.0, 1.4.0 or 3.0.0)."
  type = object({
    aws_foundational_security_best_practices = optional(bool, true)
    cis_aws_foundations_benchmark            = optional(bool, true)
    cis_version                              = optional(string, "3.0.0")
  })
  default = {}

  validation {
    condition     = contains(["1.2.0", "1.4.0", "3.0.0"], var.standards.cis_version)
    error_message = "standards.cis_version must be 1.2.0, 1.4.0 or 3.0.0."
  }
}

variable "create_insights" {
  description = "Create the Tollgate insights: open findings by repository or target, by tool and rule, and critical or high ones."
  type        = bool
  default     = true
}

variable "finding_aggregator" {
  description = "Cross-region finding aggregation, configured in the aggregation (home) region. Null disables it. linking_mode is ALL_REGIONS, ALL_REGIONS_EXCEPT_SPECIFIED or SPECIFIED_REGIONS."
  type = object({
    linking_mode = optional(string, "ALL_REGIONS")
    regions      = optional(list(string), [])
  })
  default = null

  validation {
    condition     = var.finding_aggregator == null ? true : contains(["ALL_REGIONS", "ALL_REGIONS_EXCEPT_SPECIFIED", "SPECIFIED_REGIONS"], var.finding_aggregator.linking_mode)
    error_message = "finding_aggregator.linking_mode must be ALL_REGIONS, ALL_REGIONS_EXCEPT_SPECIFIED or SPECIFIED_REGIONS."
  }

  validation {
    condition     = var.finding_aggregator == null ? true : (var.finding_aggregator.linking_mode == "ALL_REGIONS") == (length(var.finding_aggregator.regions) == 0)
    error_message = "finding_aggregator.regions must be empty for ALL_REGIONS and non-empty otherwise."
  }
}

variable "create_alerts" {
  description = "Create the alerts SNS topic (KMS-encrypted) and the EventBridge rule that sends imported Tollgate findings of alert_severities to it."
  type        = bool
  default     = true
}

variable "alerts_topic_name" {
  description = "Name of the alerts SNS topic (also the prefix of the EventBridge rule's name). The monitoring module can send its alerts to the same topic."
  type        = string
  default     = "tollgate-alerts"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.alerts_topic_name))
    error_message = "alerts_topic_name must be 1-40 letters, digits, hyphens or underscores (the rule name adds 21 characters)."
  }
}

variable "alert_severities" {
  description = "Severity labels of imported Tollgate findings that raise an alert."
  type        = list(string)
  default     = ["CRITICAL", "HIGH"]

  validation {
    condition     = length(var.alert_severities) > 0 && alltrue([for label in var.alert_severities : contains(["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"], label)])
    error_message = "alert_severities must be a non-empty list of CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before the alerts topic's KMS key is deleted."
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
