"""Lynis: a host hardening audit, of this machine or of an EC2 instance through SSM.

Opt-in (`host: {enabled: false}` in the defaults): auditing the CI runner is rarely what a
repository wants; a team enables it for its servers, or runs `tollgate scan --only host`.

Locally it runs `lynis audit system --quick --no-colors --report-file … --logfile …` (Debian's
`lynis` 3.0.8 takes exactly these flags; `--quick` never waits for a key press, even on a stale PID
file). Lynis lives in /usr/sbin, which a non-root PATH often lacks, so that is looked at too. As
root the audit is complete; as another user Lynis runs in non-privileged mode, skips the tests
that need root, and says so in its log; Tollgate adds a note. Exit 78 is Lynis' own "warnings
found" when a profile sets `error-on-warnings`, which is a result, not a failure. `profile` passes
a Lynis profile file (`--profile`).

With `ssm-instance-id`, the same audit runs on that instance through SSM Run Command
(pipeline/scanners/ssm.py). The script prints the report to stdout. Without
`ssm-output-s3-bucket`, it prints only the lines Tollgate reads (header, findings, details and
the few scalars), so a typical report fits SSM's 24,000-character stdout; a report that still does
not fit is refused as truncated. With a bucket, the whole report comes back through S3. Tollgate
appends `ec2_instance_id=<id>` to the fetched report, which makes the ASFF resource
`AwsEc2Instance`. The profile path, if any, is a path on the instance.

After Lynis, Tollgate's own read-only checks for the KISA Unix items Lynis does not cover
(host_checks.sh, a POSIX sh script beside this module) run the same way, locally or in the same
SSM script, and append their `tollgate_check[]=` lines to the report (normalizers/parsers/lynis.py
reads them; normalizers/kisa.py maps them to items).
"""

from __future__ import annotations

import os
import shlex
import time
from importlib import resources
from pathlib import Path

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.atomic import write_atomic
from pipeline.errors import ScannerError
from pipeline.scanners.base import (
    CommandScanner,
    Invocation,
    Options,
    ReportFile,
    ScanContext,
    ScannerOutput,
    ScannerSpec,
    SkipReason,
    log_tail,
    run_command,
    which,
)
from pipeline.scanners.schema import SECONDS, STRING
from pipeline.scanners.ssm import SsmTarget, run_script

REPORT_NAME = "lynis-report.dat"
SBIN_LYNIS = Path("/usr/sbin/lynis")
CHECKS_SCRIPT = "host_checks.sh"
PACKAGES_SCRIPT = "host_packages.sh"
CHECKS_HEREDOC = "TOLLGATE_HOST_CHECKS"
WARNINGS_EXIT = 78  # `error-on-warnings=yes` in a Lynis profile
# What the remote script keeps when the report has to fit in SSM's stdout (normalizers/parsers/lynis.py reads these).
KEPT_LINES = (
    r"^(# Lynis Report|(warning|suggestion|details|tollgate_check)\[\]=|(hostname|lynis_version|report_version_major"
    r"|report_version_minor|report_datetime_start|report_datetime_end|os_fullname|hardening_index"
    r"|lynis_tests_done|tests_executed|finish)=)"
)


def audit_command(executable: str, profile: str | None) -> tuple[str, ...]:
    """`lynis audit system` without its output paths: non-interactive, no colour codes."""
    return (executable, "audit", "system", "--quick", "--no-colors", *(("--profile", profile) if profile else ()))


def remote_script(options: Options) -> list[str]:
    """The lines of the AWS-RunShellScript script: audit into a temp dir, print the report, clean up."""
    audit = shlex.join(audit_command("lynis", options.get("profile")))
    audit += ' --report-file "$dir/lynis-report.dat" --logfile "$dir/lynis.log"'
    emit = "cat" if options.get("ssm-output-s3-bucket") else f"grep -E {shlex.quote(KEPT_LINES)}"
    return [
        "set -u",
        'PATH="$PATH:/usr/sbin:/usr/local/sbin"',
        'command -v lynis >/dev/null 2>&1 || { echo "lynis is not installed on this instance" >&2; exit 127; }',
        "dir=$(mktemp -d) || exit 1",
        "trap 'rm -rf \"$dir\"' EXIT",
        f'{audit} >"$dir/screen.log" 2>&1',
        "code=$?",
        f'if [ "$code" -ne 0 ] && [ "$code" -ne {WARNINGS_EXIT} ]; then tail -n 20 "$dir/screen.log" >&2; '
        'exit "$code"; fi',
        f'{emit} "$dir/lynis-report.dat"',
        f"sh -s <<'{CHECKS_HEREDOC}'",
        *checks_script().splitlines(),
        # The package inventory (hundreds of lines) fits only when the output goes through S3.
        *(packages_script().splitlines() if options.get("ssm-output-s3-bucket") else ()),
        CHECKS_HEREDOC,
    ]


def checks_script() -> str:
    """Tollgate's read-only host checks (KISA items Lynis does not cover), a POSIX sh script."""
    return resources.files("pipeline.scanners").joinpath(CHECKS_SCRIPT).read_text("utf-8")


def packages_script() -> str:
    """Tollgate's read-only inventory of installed OS packages (dpkg, rpm, apk), a POSIX sh script."""
    return resources.files("pipeline.scanners").joinpath(PACKAGES_SCRIPT).read_text("utf-8")


def ssm_target(options: Options) -> SsmTarget | None:
    instance_id = options.get("ssm-instance-id")
    if not instance_id:
        return None
    return SsmTarget(
        instance_id=instance_id,
        region=options.get("ssm-region"),
        profile=options.get("aws-profile"),
        s3_bucket=options.get("ssm-output-s3-bucket"),
        s3_prefix=options.get("ssm-output-s3-prefix"),
        poll_seconds=float(options.get("poll-seconds", 5.0)),
    )


class Lynis(CommandScanner):
    spec = ScannerSpec(
        name="host",
        title="Lynis",
        category=Category.HOST,
        tool_ids=(ToolId.LYNIS,),
        install="apt-get install --no-install-recommends lynis (or your distribution's lynis package)",
        timeout=900,
        ok_exit_codes=frozenset({0, WARNINGS_EXIT}),
        homepage="https://cisofy.com/lynis/",
        expected_seconds=120, memory_mb=100,
        enabled=False,
        options={
            "profile": STRING,
            "ssm-instance-id": {"type": "string", "pattern": "^m?i-[0-9a-f]{8,17}$"},
            "ssm-region": STRING,
            "aws-profile": STRING,
            "ssm-output-s3-bucket": STRING,
            "ssm-output-s3-prefix": STRING,
            "poll-seconds": SECONDS,
        },
    )
    executable = "lynis"

    def locate(self, ctx: ScanContext, options: Options) -> str | None:
        found = which(self.executable, ctx)
        return found or (str(SBIN_LYNIS) if os.access(SBIN_LYNIS, os.X_OK) else None)

    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if ssm_target(options):
            return None  # Lynis must be on the instance; the script says so if it is not
        return super().readiness(ctx, options)

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        folder = ctx.folder(self.spec.name)
        report = folder / REPORT_NAME
        argv = (*audit_command(executable, options.get("profile")),
                "--report-file", str(report), "--logfile", str(folder / "lynis.log"))
        return (Invocation(argv=argv, cwd=folder, report=report),)

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        target = ssm_target(options)
        if target is not None:
            return self.run_remote(ctx, options, target, deadline)
        output = super().run(ctx, options, deadline)
        cpu_seconds = output.cpu_seconds + self.append_checks(ctx, output.reports[0].path, deadline)
        if os.geteuid() == 0:
            return ScannerOutput(output.reports, cpu_seconds=cpu_seconds)
        return ScannerOutput(output.reports, ("Lynis ran without root (non-privileged mode): tests that need "
                                              "root were skipped; run as root for a complete audit",), cpu_seconds)

    def append_checks(self, ctx: ScanContext, report: Path, deadline: float) -> float:
        """Run the host checks and the package inventory locally; their lines go to the end of Lynis' report.
        Returns the CPU seconds they took."""
        folder = ctx.folder(self.spec.name)
        script = folder / CHECKS_SCRIPT
        write_atomic(script, checks_script() + packages_script())
        log = folder / "host-checks.log"
        exited = run_command(Invocation(argv=("sh", str(script)), cwd=folder, report=report, stdout_is_report=True),
                             ctx.env, log, deadline)
        if exited.code != 0:
            raise ScannerError(f"Tollgate's host checks exited with status {exited.code}: {log_tail(log)}")
        return exited.cpu_seconds

    def run_remote(self, ctx: ScanContext, options: Options, target: SsmTarget, deadline: float) -> ScannerOutput:
        report = ctx.folder(self.spec.name) / REPORT_NAME
        report.unlink(missing_ok=True)  # a stale report must never pass for a fresh one
        started = time.monotonic()
        output = run_script(target, remote_script(options), deadline, "tollgate host audit (Lynis)")
        if not output.stdout.strip():
            raise ScannerError(f"Lynis on {target.instance_id}: SSM command {output.command_id} succeeded but "
                               "printed no report")
        write_atomic(report, output.stdout.rstrip("\n") + f"\nec2_instance_id={target.instance_id}\n")
        via = "S3" if output.from_s3 else "stdout"
        note = (f"Lynis ran on {target.instance_id} through SSM command {output.command_id} "
                f"in {time.monotonic() - started:.0f} s (report read from {via})")
        notes = (note,) if target.s3_bucket else (
            note, "the installed-package inventory needs ssm-output-s3-bucket (it does not fit SSM's stdout)")
        return ScannerOutput(reports=(ReportFile(report, ToolId.LYNIS),), notes=notes)


SCANNER = Lynis()
SCANNERS = (SCANNER,)
