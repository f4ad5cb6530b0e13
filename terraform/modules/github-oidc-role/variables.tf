variable "create" {
  description = "Whether to create the role (and the OIDC provider when create_oidc_provider is true)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the IAM role."
  type        = string
  default     = "tollgate-github-actions"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters from A-Z a-z 0-9 + = , . @ _ -."
  }
}

variable "path" {
  description = "IAM path of the role."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.path))
    error_message = "path must start and end with a slash."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a managed policy used as the role's permissions boundary."
  type        = string
  default     = null
}

variable "max_session_duration" {
  description = "Maximum session duration in seconds (3600-43200)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "create_oidc_provider" {
  description = "Create the token.actions.githubusercontent.com OIDC provider. An account holds one provider per URL, and most already have GitHub's, so false (the default) reads the existing one through a data source; set true only in an account that has none (plan fails on the lookup there)."
  type        = bool
  default     = false
}

variable "oidc_thumbprints" {
  description = "Certificate thumbprints of the GitHub OIDC provider. AWS validates GitHub's tokens through its own trust store, so these are only kept for older tooling."
  type        = list(string)
  default     = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]

  validation {
    condition     = alltrue([for thumbprint in var.oidc_thumbprints : can(regex("^[0-9a-f]{40}$", thumbprint))])
    error_message = "Each thumbprint must be 40 lowercase hex digits."
  }
}

variable "audience" {
  description = "Expected aud claim of the GitHub token. Must be sts.amazonaws.com (what aws-actions/configure-aws-credentials requests)."
  type        = string
  default     = "sts.amazonaws.com"

  validation {
    condition     = var.audience == "sts.amazonaws.com"
    error_message = "audience must be sts.amazonaws.com."
  }
}

variable "repositories" {
  description = "Repositories (owner/name) whose workflows may assume the role, on the branches and environments below."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for repository in var.repositories : can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", repository))])
    error_message = "Each repository must be owner/name without wildcards, e.g. octo-org/octo-repo."
  }
}

variable "branches" {
  description = "Branch names (without refs/heads/) of the repositories that may assume the role."
  type        = list(string)
  default     = ["main"]

  validation {
    condition     = alltrue([for branch in var.branches : branch != "*" && !startswith(branch, "refs/")])
    error_message = "A branch is a name such as main or release/*, never * alone, and without the refs/heads/ prefix."
  }
}

variable "environments" {
  description = "GitHub deployment environments of the repositories that may assume the role."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for environment in var.environments : can(regex("^[^*?:]+$", environment))])
    error_message = "An environment name must not contain *, ? or a colon."
  }
}

variable "allow_pull_requests" {
  description = "Also trust the pull_request subject of the repositories. Pull requests run code that is not yet reviewed, so keep this false unless the role is read-only."
  type        = bool
  default     = false
}

variable "subjects" {
  description = "Extra sub claims trusted verbatim, each starting with repo:owner/name: (for example repo:octo-org/octo-repo:ref:refs/tags/v*)."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.subjects, "*")
    error_message = "A subject of * would let every GitHub repository assume the role."
  }

  validation {
    condition     = alltrue([for subject in var.subjects : can(regex("^repo:[^/:]+/[^/:]+:.+$", subject))])
    error_message = "Each subject must start with repo:owner/name: followed by a context (ref:, environment:, pull_request)."
  }

  validation {
    condition     = alltrue([for subject in var.subjects : can(regex("^repo:[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+:", subject))])
    error_message = "The owner and repository name of a subject must not contain wildcards (* or ?)."
  }
}

variable "securityhub_region" {
  description = "Region whose Security Hub receives findings. Null means the provider's region."
  type        = string
  default     = null
}

variable "report_bucket_arn" {
  description = "ARN of the report bucket. The role may put objects only under reports/OWNER/REPO/ of the repositories it trusts. Null grants no S3 access."
  type        = string
  default     = null
}

variable "report_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the report bucket. Null grants no KMS access."
  type        = string
  default     = null
}

variable "allow_host_audit" {
  description = "Let the role run Tollgate's host audit (the host scanner: Lynis through SSM Run Command) on the EC2 and managed instances that carry every tag in host_audit_instance_tags: SendCommand with AWS-RunShellScript, and following and cancelling its commands."
  type        = bool
  default     = false
}

variable "host_audit_instance_tags" {
  description = "Tags an instance must carry for the role to send it the host audit (allow_host_audit). Tag the instances you audit; every other instance stays out of reach."
  type        = map(string)
  default     = { tollgate-host-audit = "true" }

  validation {
    condition     = length(var.host_audit_instance_tags) > 0
    error_message = "host_audit_instance_tags must name at least one tag: without one the role could run commands on every instance."
  }
}

variable "host_audit_output_bucket_arn" {
  description = "ARN of the bucket the host audit's command writes its whole output to (the host scanner's ssm-output-s3-bucket); the role may list and read it under host_audit_output_prefix. The instances' own role needs s3:PutObject there. Null grants no S3 access."
  type        = string
  default     = null
}

variable "host_audit_output_prefix" {
  description = "Key prefix of the host audit's output in host_audit_output_bucket_arn (the host scanner's ssm-output-s3-prefix), without a leading slash."
  type        = string
  default     = "tollgate-host-audit"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.()'-][A-Za-z0-9!_.*()'/-]*[^/]$", var.host_audit_output_prefix))
    error_message = "host_audit_output_prefix must be a key prefix without a leading or trailing slash, e.g. tollgate-host-audit."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
