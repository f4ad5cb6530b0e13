# Every module with create = false: a plan of this example must show no resources. It proves
# that every module, its outputs and its validations hold up when nothing is created.

provider "aws" {
  region = "us-east-1"
}

module "security_hub" {
  source = "../../modules/security-hub"

  create = false
}

module "report_bucket" {
  source = "../../modules/report-bucket"

  create = false
}

module "github_oidc_role" {
  source = "../../modules/github-oidc-role"

  create = false
}

module "findings_importer" {
  source = "../../modules/findings-importer"

  create = false
}

module "monitoring" {
  source = "../../modules/monitoring"

  create = false
}

module "codebuild_scan" {
  source = "../../modules/codebuild-scan"

  create = false
}

module "package_vetting" {
  source = "../../modules/package-vetting"

  create = false
}
