"""Tollgate's read-only host checks (host_checks.sh), run for real on this machine."""

from __future__ import annotations

import re
import subprocess

from normalizers import kisa
from pipeline.scanners.lynis import checks_script

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
