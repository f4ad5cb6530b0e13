"""Model Findings covering every category and location kind, for the emitter tests and snapshots.

They are built from the model directly (the emitters only need the model); the values are
shaped after what the real scanners report: CVE/GHSA ids, CVSS vectors, ZAP's HTML-bearing
prose, Trivy's ECR references, detect-secrets' hashed secrets, Lynis test ids.
"""

from __future__ import annotations

from normalizers.identity import with_fingerprints
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Cvss,
    Finding,
    HostLocation,
    ImageLocation,
    PackageLocation,
    Remediation,
    Scope,
    Severity,
    Tool,
    UrlLocation,
)

SCOPE = Scope("octo-org/webshop", branch="main", commit="4f1c2b7e9a0d3c5b8e6f1a2d4c7b9e0f3a5d8c1b")
NOW = "2026-11-22T10:15:30.123Z"

DEPENDENCY_CHECK = Tool("dependency-check", Category.SCA, "10.0.3")
TRIVY_SCA = Tool("trivy", Category.SCA, "0.56.2")
TRIVY_IMAGE = Tool("trivy", Category.IMAGE, "0.56.2")
TRIVY_CONFIG = Tool("trivy", Category.IAC, "0.56.2")
TRIVY_SECRETS = Tool("trivy", Category.SECRETS, "0.56.2")
SEMGREP = Tool("semgrep", Category.SAST, "1.95.0")
BANDIT = Tool("bandit", Category.SAST, "1.7.10")
SONARQUBE = Tool("sonarqube", Category.SAST, "10.6")
ZAP = Tool("zap", Category.DAST, "2.15.0")
WAPITI = Tool("wapiti", Category.DAST, "3.0.4")
CHECKOV = Tool("checkov", Category.IAC, "3.2.255")
DETECT_SECRETS = Tool("detect-secrets", Category.SECRETS, "1.5.0")
SUPPLY_CHAIN = Tool("supply-chain", Category.SUPPLY_CHAIN)
LYNIS = Tool("lynis", Category.HOST, "3.1.1")
SERVER_CHECKER = Tool("server-checker", Category.HOST)

LOG4SHELL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
ECR_IMAGE = ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/webshop/api:1.4.2"
             "@sha256:0f3c1d2e4b5a69788796a5b4c3d2e1f00f3c1d2e4b5a69788796a5b4c3d2e1f0")
ZAP_XSS_DESCRIPTION = (
    "<p>Cross-site Scripting (XSS) is an attack technique that involves echoing attacker-supplied code "
    "into a user's browser instance.</p> [click](javascript:alert(1)) <img src=x onerror=alert(1)> "
    "@octocat fixes #1 | a | table |"
)


def package_findings() -> list[Finding]:
    return [
        Finding(
            DEPENDENCY_CHECK, "CVE-2022-42889", "Apache Commons Text variable interpolation RCE", Severity.CRITICAL,
            PackageLocation("commons-text", "1.9", "pkg:maven/org.apache.commons/commons-text@1.9?type=jar",
                            "maven", "pom.xml", None, ("1.10.0",)),
            description="Apache Commons Text performs variable interpolation, allowing properties to be "
                        "dynamically evaluated and expanded.",
            original_severity="CRITICAL", confidence=Confidence.HIGH, cwe=(94,),
            cvss=(Cvss("3.1", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "nvd"),),
            vulnerability_ids=("CVE-2022-42889",),
            references=("https://nvd.nist.gov/vuln/detail/CVE-2022-42889",
                        "https://lists.apache.org/thread/n2bd4vdsgkqh2tm14l1wyc3jyol7s1om"),
        ),
        Finding(
            TRIVY_SCA, "CVE-2024-29041", "express: cause malformed URLs to be evaluated", Severity.MEDIUM,
            PackageLocation("express", "4.18.2", "pkg:npm/express@4.18.2", "npm", "package-lock.json", 1234,
                            ("4.19.2", "5.0.0-beta.3")),
            description="Express.js minimalist web framework for node. Versions prior to 4.19.0 are vulnerable.",
            original_severity="MEDIUM", cwe=(601, 1286),
            cvss=(Cvss("3.1", 6.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "ghsa"),),
            vulnerability_ids=("CVE-2024-29041", "GHSA-rv95-896h-c2vc"),
            remediation=Remediation("Upgrade express to 4.19.2 or later.",
                                    "https://github.com/advisories/GHSA-rv95-896h-c2vc"),
            confirmed_by=("dependency-check",),
        ),
        Finding(
            TRIVY_SCA, "GHSA-9wv6-86v2-598j", "path-to-regexp outputs backtracking regular expressions",
            Severity.HIGH, PackageLocation("path-to-regexp", "0.1.7", "pkg:npm/path-to-regexp@0.1.7", "npm"),
            description="A bad regular expression is generated any time you have two parameters within a single "
                        "segment, separated by something that is not a period.",
            original_severity="HIGH", cwe=(1333,), vulnerability_ids=("GHSA-9wv6-86v2-598j",),
        ),
        Finding(
            DEPENDENCY_CHECK, "CVE-2012-5783", "httpclient [legacy] SSL hostname check", Severity.LOW,
            PackageLocation("commons-httpclient", "3.1", None, "maven", "libs/legacy client/build.gradle", None),
            description="Apache Commons HttpClient 3.x does not verify that the server hostname matches a domain "
                        "name in the subject's Common Name (CN) field.",
            original_severity="MEDIUM", confidence=Confidence.LOW, cwe=(20,),
            cvss=(Cvss("2.0", 5.8, "AV:N/AC:M/Au:N/C:P/I:P/A:N", "nvd"), Cvss("unknown", 3.9, "garbled", "osv")),
            vulnerability_ids=("CVE-2012-5783",),
        ),
    ]


def image_findings() -> list[Finding]:
    return [
        Finding(
            TRIVY_IMAGE, "CVE-2023-0286", "openssl: X.400 address type confusion in X.509 GeneralName",
            Severity.HIGH,
            ImageLocation(ECR_IMAGE, None, "sha256:9a3c1b5e7d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c",
                          PackageLocation("libssl3", "3.0.7-r0", "pkg:apk/alpine/libssl3@3.0.7-r0?arch=x86_64",
                                          "apk", None, None, ("3.0.8-r0",))),
            description="There is a type confusion vulnerability relating to X.400 address processing inside an "
                        "X.509 GeneralName.",
            original_severity="HIGH",
            cvss=(Cvss("3.1", 7.4, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", "nvd"),
                  Cvss("2.0", 6.4, "AV:N/AC:L/Au:N/C:P/I:N/A:P", "nvd")),
            vulnerability_ids=("CVE-2023-0286",),
        ),
        Finding(
            TRIVY_IMAGE, "CVE-2023-29491", "ncurses: Local users can trigger security-relevant memory corruption",
            Severity.LOW,
            ImageLocation("nginx:1.25.3", None, None,
                          PackageLocation("ncurses-base", "6.4-4", "pkg:deb/debian/ncurses-base@6.4-4", "deb")),
            original_severity="LOW", vulnerability_ids=("CVE-2023-29491",), active=False,
            suppression_reason="listed in .trivyignore: no fix in Debian 12",
        ),
    ]


def code_findings() -> list[Finding]:
    return [
        Finding(
            SEMGREP, "python.django.security.injection.sql.sql-injection-using-raw", "SQL injection via raw()",
            Severity.HIGH,
            CodeLocation("app/views.py", 42, 44, 9, 31, 'User.objects.raw(f"SELECT * FROM u WHERE id={uid}")'),
            description="Untrusted input flows into a raw SQL query.", original_severity="ERROR",
            confidence=Confidence.HIGH, cwe=(89,),
            references=("https://owasp.org/Top10/A03_2021-Injection",),
        ),
        Finding(
            BANDIT, "B602", "subprocess call with shell=True identified, security issue.", Severity.HIGH,
            CodeLocation("./src/my app/run.py", 17, 17, 5, 40, "subprocess.call(cmd, shell=True)"),
            description="subprocess call with shell=True identified, security issue.", original_severity="HIGH",
            confidence=Confidence.HIGH, cwe=(78,),
            remediation=Remediation(
                url="https://bandit.readthedocs.io/en/1.7.10/plugins/b602_subprocess_popen_with_shell_equals_true.html"
            ),
        ),
        Finding(
            SONARQUBE, "java:S4507", "Make sure this debug feature is deactivated before delivering the code",
            Severity.LOW, CodeLocation("/src/main/java/App.java"),
            description="Delivering code in production with debug features activated is security-sensitive.",
            original_severity="MINOR", cwe=(489, 215),
        ),
        Finding(
            SONARQUBE, "java:S2068", "Credentials should not be hard-coded " + "(see the policy) " * 20,
            Severity.CRITICAL, CodeLocation("src\\main\\java\\Config.java", 12, 12, 3, 60, 'String password = "x";'),
            description="Hard-coded credentials are security-sensitive. " + "Rotate them. " * 120,
            original_severity="BLOCKER", cwe=(798, 259),
        ),
    ]


def web_findings() -> list[Finding]:
    return [
        Finding(
            ZAP, "40012", "Cross Site Scripting (Reflected)", Severity.HIGH,
            UrlLocation("https://staging.webshop.example/search?q=shoes&page=2", "GET", "q",
                        "</p><scrIpt>alert(1);</scRipt><p>", "<scrIpt>alert(1);</scRipt>"),
            description=ZAP_XSS_DESCRIPTION, original_severity="High (Medium)", confidence=Confidence.MEDIUM,
            cwe=(79,), remediation=Remediation("Validate all input; encode all output."),
            references=("https://owasp.org/www-community/attacks/xss/", "javascript:alert(1)"),
            properties=(("zap.pluginId", "40012"), ("zap.wascId", "8")),
        ),
        Finding(
            ZAP, "10036", "Server Leaks Version Information via \"Server\" HTTP Response Header Field", Severity.INFO,
            UrlLocation("https://staging.webshop.example/api/cart", "post"),
            description="The web/application server is leaking version information via the \"Server\" header.",
            original_severity="Informational (High)", confidence=Confidence.HIGH, cwe=(497,),
        ),
        Finding(
            WAPITI, "csrf", "Cross Site Request Forgery", Severity.MEDIUM,
            UrlLocation("http://127.0.0.1:8080/profile", "POST", "email"),
            description="Lack of anti CSRF token", original_severity="2", cwe=(352,),
        ),
    ]


def config_findings() -> list[Finding]:
    return [
        Finding(
            CHECKOV, "CKV_AWS_18", "Ensure the S3 bucket has access logging enabled", Severity.MEDIUM,
            CodeLocation("terraform/modules/reports/main.tf", 10, 20, snippet='resource "aws_s3_bucket" "this" {'),
            original_severity="MEDIUM",
            remediation=Remediation(url="https://docs.prismacloud.io/en/enterprise-edition/policy-reference/"
                                        "aws-policies/s3-policies/s3-13-enable-logging"),
        ),
        Finding(
            TRIVY_CONFIG, "AVD-DS-0002", "Image user should not be 'root'", Severity.HIGH,
            CodeLocation("Dockerfile", 1, 1), description="Running containers with 'root' user can lead to a "
            "container escape situation.", original_severity="HIGH", cwe=(250,),
        ),
        Finding(
            DETECT_SECRETS, "Secret Keyword", "Secret Keyword", Severity.HIGH, CodeLocation("config/settings.py", 3),
            description="detect-secrets found a secret keyword "
                        "(hashed_secret 5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8).",
            confidence=Confidence.MEDIUM,
        ),
        Finding(
            TRIVY_SECRETS, "aws-access-key-id", "AWS Access Key ID", Severity.CRITICAL,
            CodeLocation(".env", 1, 1, 1, 38, "AWS_ACCESS_KEY_ID=********************"),
            original_severity="CRITICAL", cwe=(798,),
        ),
        Finding(
            SUPPLY_CHAIN, "typosquat", "request2 looks like a typosquat of requests", Severity.HIGH,
            PackageLocation("request2", "0.1", "pkg:pypi/request2@0.1", "pypi", "requirements.txt", 7),
            description="High risk package: name is one edit away from 'requests'; fewer than 300 downloads.",
            original_severity="Red", properties=(("score", "50"), ("risk_level", "Red"), ("similar", "requests")),
        ),
    ]


def host_findings() -> list[Finding]:
    return [
        Finding(
            LYNIS, "SSH-7408", "Consider hardening SSH configuration: PermitRootLogin", Severity.LOW,
            HostLocation("web-01", None, "SSH-7408", "ssh"), original_severity="suggestion",
            remediation=Remediation("Set PermitRootLogin to no in /etc/ssh/sshd_config."),
        ),
        Finding(
            LYNIS, "AUTH-9286", "Configure minimum password age in /etc/login.defs", Severity.MEDIUM,
            HostLocation("ip-10-0-1-12", "i-0a1b2c3d4e5f60718", "AUTH-9286", "authentication"),
            original_severity="warning",
        ),
        Finding(
            SERVER_CHECKER, "CVE-2021-44228", "Apache Log4j2 JNDI features do not protect against attacker-controlled "
            "LDAP and other JNDI related endpoints", Severity.CRITICAL, HostLocation("db-01"),
            cvss=(Cvss("3.1", 10.0, LOG4SHELL_VECTOR, "nvd"),), vulnerability_ids=("CVE-2021-44228",),
            references=("https://logging.apache.org/log4j/2.x/security.html",),
        ),
    ]


def all_findings() -> list[Finding]:
    """Every factory finding, fingerprinted as `normalizers.parsing.parse_report` would."""
    return with_fingerprints(
        package_findings() + image_findings() + code_findings() + web_findings() + config_findings() + host_findings()
    )
