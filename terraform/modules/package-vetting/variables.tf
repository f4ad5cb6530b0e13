variable "create" {
  description = "Whether to create the vetting flow and everything it needs."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the state machine; prefixes its functions (NAME-check, ...), roles, log groups, the status table (NAME-status) and the client policy (NAME-client)."
  type        = string
  default     = "tollgate-vetting"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,40}$", var.name))
    error_message = "name must be 1-40 letters, digits or hyphens (function and role names append suffixes)."
  }
}

variable "domain_name" {
  description = "Name of the CodeArtifact domain that holds the intake and vetted repositories."
  type        = string
  default     = "tollgate"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,48}[a-z0-9]$", var.domain_name))
    error_message = "domain_name must be 3-50 lower-case letters, digits or hyphens, starting with a letter (CodeArtifact's rule)."
  }
}

variable "repository_prefix" {
  description = "Prefix of the repository names: PREFIXpypi-intake, PREFIXpypi-vetted, PREFIXnpm-intake, PREFIXnpm-vetted."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{0,80}$", var.repository_prefix))
    error_message = "repository_prefix must be at most 80 letters, digits, dots, hyphens or underscores."
  }
}

variable "ecosystems" {
  description = "Ecosystems to vet, each with an intake and a vetted repository: pypi, npm or both."
  type        = list(string)
  default     = ["pypi", "npm"]

  validation {
    condition     = length(var.ecosystems) > 0 && length(distinct(var.ecosystems)) == length(var.ecosystems) && alltrue([for ecosystem in var.ecosystems : contains(["pypi", "npm"], ecosystem)])
    error_message = "ecosystems must list pypi, npm or both, once each."
  }
}

variable "allowed_risk_levels" {
  description = "Firewall risk levels that pass into the vetted repository. Green only by default, as the source flow; add Yellow to let review-level packages through. Red never passes."
  type        = list(string)
  default     = ["Green"]

  validation {
    condition     = contains(var.allowed_risk_levels, "Green") && alltrue([for level in var.allowed_risk_levels : contains(["Green", "Yellow"], level)])
    error_message = "allowed_risk_levels must contain Green and may add Yellow; Red is never allowed."
  }
}

variable "firewall_config" {
  description = "YAML text of a .tollgate.yml whose firewall: section the check step uses (allowlist, blocklist, quarantine, internal names, reputation); other sections are ignored. Empty uses the firewall's defaults."
  type        = string
  default     = ""

  validation {
    condition     = length(var.firewall_config) <= 3072
    error_message = "firewall_config must stay under 3 KB: Lambda's environment holds 4 KB in all."
  }
}

variable "fetch_mode" {
  description = "How a version is pulled into intake: endpoint (the fetch Lambda downloads it through the repository endpoint with a CodeArtifact token) or ssm (SSM Run Command on the instances with ssm_target_tag)."
  type        = string
  default     = "endpoint"

  validation {
    condition     = contains(["endpoint", "ssm"], var.fetch_mode)
    error_message = "fetch_mode must be endpoint or ssm."
  }
}

variable "ssm_target_tag" {
  description = "With fetch_mode = ssm: the tag (key and value) of the managed instances that run pip download or npm pack. Their role needs codeartifact:GetAuthorizationToken, codeartifact:ReadFromRepository on the intake repositories and sts:GetServiceBearerToken."
  type = object({
    key   = string
    value = string
  })
  default = {
    key   = "tollgate-vetting"
    value = "intake"
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.ssm_target_tag.key)) && can(regex("^[A-Za-z0-9 _.:/=+@-]{1,256}$", var.ssm_target_tag.value)) && !strcontains(var.ssm_target_tag.key, "=")
    error_message = "ssm_target_tag must be a valid EC2 tag key (no =) and value."
  }
}

variable "ssm_output_bucket_name" {
  description = "With fetch_mode = ssm: bucket that receives the commands' output (the instances' role writes it). Null keeps the output in SSM only."
  type        = string
  default     = null
}

variable "fetch_timeout" {
  description = "Timeout of the fetch step in seconds: the download of every file of a version through the endpoint."
  type        = number
  default     = 600

  validation {
    condition     = var.fetch_timeout >= 60 && var.fetch_timeout <= 900
    error_message = "fetch_timeout must be between 60 and 900 seconds (the state machine's task timeout is 900)."
  }
}

variable "max_package_bytes" {
  description = "Largest file the fetch step downloads; a larger one fails the vetting (FAILED)."
  type        = number
  default     = 268435456

  validation {
    condition     = var.max_package_bytes >= 1048576
    error_message = "max_package_bytes must be at least 1 MiB."
  }
}

variable "poll_seconds" {
  description = "Wait between two checks that the version is Published in intake."
  type        = number
  default     = 10

  validation {
    condition     = var.poll_seconds >= 1 && var.poll_seconds <= 300
    error_message = "poll_seconds must be between 1 and 300."
  }
}

variable "max_polls" {
  description = "Checks of the intake repository before the vetting times out (FAILED with Vetting.Timeout)."
  type        = number
  default     = 30

  validation {
    condition     = var.max_polls >= 1 && var.max_polls <= 500
    error_message = "max_polls must be between 1 and 500."
  }
}

variable "status_ttl_days" {
  description = "Days a SECURE or BLOCKED answer stays in the status table (its TTL); a FAILED one stays a day."
  type        = number
  default     = 90

  validation {
    condition     = var.status_ttl_days >= 1 && var.status_ttl_days <= 3650
    error_message = "status_ttl_days must be between 1 and 3650."
  }
}

variable "deletion_protection" {
  description = "Deletion protection of the status table."
  type        = bool
  default     = true
}

variable "package_path" {
  description = "Path of the functions' zip, the same package as the findings importer's (make lambda-package writes build/findings-importer.zip). Required when create is true; plan checks that it exists."
  type        = string
  default     = null

  validation {
    condition     = var.package_path == null || can(regex("\\.zip$", var.package_path))
    error_message = "package_path must name the .zip that make lambda-package builds (build/findings-importer.zip)."
  }
}

variable "architecture" {
  description = "Instruction set of the functions; the build directory's compiled wheels must match it."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrent invocations allowed per step. Security Hub allows 10 BatchImportFindings requests per second per account and region."
  type        = number
  default     = 5

  validation {
    condition     = var.reserved_concurrent_executions >= 1 && var.reserved_concurrent_executions <= 100
    error_message = "reserved_concurrent_executions must be between 1 and 100 (0 would disable the functions)."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' and the state machine's log groups in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention of at least one year (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "environment_variables" {
  description = "Extra environment variables of the functions (for example TOLLGATE_LOG_LEVEL). The module's own TOLLGATE_VETTING_* variables take precedence."
  type        = map(string)
  default     = {}
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before the module's KMS key (assets, table, state machine, logs, environments) is deleted."
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
