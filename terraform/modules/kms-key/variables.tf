variable "create" {
  description = "Whether to create the key and its policy."
  type        = bool
  default     = true
}

variable "description" {
  description = "Description of the key, saying what it encrypts."
  type        = string

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 8192
    error_message = "description must be non-empty and at most 8192 characters."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before the key is deleted once scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "service_statements" {
  description = "Key policy statements that let an AWS service principal use the key, each narrowed by its conditions. Only cryptographic and describe actions (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe*) are accepted: administration stays with the account through IAM."
  type = list(object({
    sid     = string
    service = string
    actions = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for statement in var.service_statements : can(regex("^[A-Za-z0-9]+$", statement.sid))])
    error_message = "service_statements: every sid must be letters and digits only."
  }

  validation {
    condition     = length(distinct([for statement in var.service_statements : statement.sid])) == length(var.service_statements) && !contains([for statement in var.service_statements : statement.sid], "AccountAdministersKeyThroughIam")
    error_message = "service_statements: sids must be unique and must not be AccountAdministersKeyThroughIam."
  }

  validation {
    condition     = alltrue([for statement in var.service_statements : can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)*\\.amazonaws\\.com$", statement.service))])
    error_message = "service_statements: service must be an AWS service principal such as logs.REGION.amazonaws.com, never a wildcard or an account."
  }

  validation {
    condition = alltrue([for statement in var.service_statements : length(statement.actions) > 0 && alltrue([
      for action in statement.actions : can(regex("^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|Describe)[A-Za-z]*\\*?$", action))
    ])])
    error_message = "service_statements: actions must be non-empty and only kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* or kms:Describe* (never kms:* or an administrative action)."
  }
}

variable "tags" {
  description = "Tags of the key."
  type        = map(string)
  default     = {}
}
