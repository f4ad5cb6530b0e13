"""Tollgate's read-only host checks (host_checks.sh), run for real on this machine, and `trivy rootfs`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from normalizers import kisa
from pipeline.scanners.base import Options, ScanContext
from pipeline.scanners.lynis import checks_script
from pipeline.scanners.trivy import ROOTFS

RECORD = re.compile(r"^tollgate_check\[\]=([a-z0-9-]+)\|(pass|fail|manual|na)\|[^|\n]*\|$")
# Anything that could change the host: writes, permission changes, package and service managers.
CHANGES = re.compile(r"(^|[\s;|&(])(rm|mv|cp|chmod|chown|chgrp|touch|mkdir|ln|tee|dd|truncate|sed -i|useradd|usermod|"
                     r"passwd|apt-get|apt|dnf|yum|rpm -[iUe]|dpkg -[irP]|systemctl|service|kill|pkill|sysctl -w|"
                     r"iptables|nft|install)\s")


def test_the_script_runs_no_command_that_changes_the_host() -> None:
    code = [line for line in checks_script().splitlines() if not line.lstrip().startswith("#")]
    assert [line for line in code if CHANGES.search(line)] == []
    # a redirection to a path or a variable (awk's `$3 > 0` compares with a number)
    redirects = re.findall(r"(?<![<>=!])>{1,2}(?![=&])\s*([/\"$'][^\s&|;)]*)", "\n".join(code))
    assert set(redirects) <= {"/dev/null"}, redirects  # output goes to stdout only


def test_every_check_reports_once_on_this_machine() -> None:
    run = subprocess.run(["sh", "-s"], input=checks_script(), capture_output=True, text=True, timeout=600,
                         check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert lines and all(RECORD.match(line) for line in lines), [line for line in lines if not RECORD.match(line)]
    reported = [RECORD.match(line).group(1) for line in lines]  # type: ignore[union-attr]
    expected = [check for item in kisa.table().items for check in item.native]
    assert sorted(reported) == sorted(expected)
    assert "$6$" not in run.stdout and "$y$" not in run.stdout  # no password hash ever leaves


def test_trivy_rootfs_scans_the_root_filesystem_but_not_kernel_filesystems(tmp_path: Path) -> None:
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work")
    (invocation,) = ROOTFS.invocations(ctx, Options.of({"skip-db-update": True}), "trivy")
    argv = invocation.argv
    assert argv[:2] == ("trivy", "rootfs") and argv[-1] == "/" and "--skip-db-update" in argv
    assert argv[argv.index("--scanners") + 1] == "vuln" and argv[argv.index("--format") + 1] == "json"
    skipped = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--skip-dirs"}
    assert {"/proc", "/sys", "/dev", str(ctx.work_dir)} <= skipped
    assert not ROOTFS.spec.enabled and ROOTFS.spec.category.value == "host"
    empty_cache = Options.of({"skip-db-update": True, "cache-dir": str(tmp_path / "cache")})
    reason = ROOTFS.readiness(ctx, empty_cache)
    assert reason is not None and "does not exist" in reason.message  # no DB: skipped, never a silent pass
