# Everything Tollgate needs in one account: Security Hub with insights and alerts, the report
# bucket, the GitHub Actions role, the findings importer, the package vetting flow, and
# GuardDuty/CloudTrail monitoring.
# IAM is a global service whose CloudTrail events reach EventBridge in us-east-1 only, so the
# IAM and access-key alerts fire when this stack runs there.

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Project = "tollgate"
      Example = "complete"
    }
  }
}

locals {
  repository = "tollgate-dev/tollgate"
}

module "security_hub" {
  source = "../../modules/security-hub"

  enable_security_hub_v2 = true

  standards = {
    aws_foundational_security_best_practices = true
    cis_aws_foundations_benchmark            = true
    cis_version                              = "3.0.0"
  }

  finding_aggregator = {
    linking_mode = "ALL_REGIONS"
  }

  alert_severities = ["CRITICAL", "HIGH"]
}

module "report_bucket" {
  source = "../../modules/report-bucket"

  bucket_prefix   = "tollgate-reports-"
  expiration_days = 180
}

module "github_oidc_role" {
  source = "../../modules/github-oidc-role"

  repositories       = [local.repository]
  branches           = ["main"]
  environments       = ["production"]
  subjects           = ["repo:${local.repository}:ref:refs/tags/v*"]
  report_bucket_arn  = module.report_bucket.bucket_arn
  report_kms_key_arn = module.report_bucket.kms_key_arn
}

module "findings_importer" {
  source = "../../modules/findings-importer"

  # Built by the steps in modules/findings-importer/README.md.
  package_path       = "${path.root}/../../../build/findings-importer.zip"
  report_bucket_name = module.report_bucket.bucket_id
  report_kms_key_arn = module.report_bucket.kms_key_arn
}

module "monitoring" {
  source = "../../modules/monitoring"

  alerts_topic_arn = module.security_hub.alerts_topic_arn
}

module "codebuild_scan" {
  source = "../../modules/codebuild-scan"

  # The AWS-native pipeline: CodeBuild scans the repository (examples/codebuild/buildspec-scan.yml)
  # and publishes to Security Hub; no DAST instance here, so no SSM document.
  source_location         = "https://github.com/${local.repository}.git"
  repository              = local.repository
  buildspec               = "examples/codebuild/buildspec-scan.yml"
  report_bucket_name      = module.report_bucket.bucket_id
  report_kms_key_arn      = module.report_bucket.kms_key_arn
  publish_to_security_hub = true
}

module "package_vetting" {
  source = "../../modules/package-vetting"

  # The same build as the findings importer's (make lambda-package).
  package_path       = "${path.root}/../../../build/findings-importer.zip"
  firewall_config    = <<-YAML
    firewall:
      blocklist:
        - {ecosystem: pypi, name: ctx, reason: "hijacked in 2022 to steal environment variables"}
  YAML
}
