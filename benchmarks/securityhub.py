"""Security Hub publish benchmark: N findings into moto's real server, against the API's limits.

Prints two ratios for a first import and for a re-run of the same findings (the lifecycle
path: GetFindings lookups, CreatedAt kept, UpdatedAt moved):
  requests:   BatchImportFindings calls used  /  the optimum ceil(N/100)          target = 1
  throughput: findings per second achieved    /  the configured rate x 100        target ≈ 1

Security Hub allows 10 calls per second (burst 30) of 100 findings each, so 1,000 findings per
second is the sustained ceiling; the burst lets a short run exceed it. A re-run must first read
the stored findings back, 100 per GetFindings page at 3 pages per second (burst 6), before it
can send anything; for it the script also prints the time the API's limits alone impose
(`floor`), which is the bound to compare with. moto stands in for the service (no network
here): its own cost is in the measurement, its throttling is not.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402 - after the path set-up, like the imports below

from pipeline.publish.ratelimit import IMPORT_RATE, Rate  # noqa: E402
from pipeline.publish.securityhub import PublishRequest, PublishSettings, publish  # noqa: E402
from tests.moto_server import DUMMY_ENVIRONMENT, free_port, moto_server_command, reset  # noqa: E402
from tests.pipeline.publish.helpers import (  # noqa: E402
    CallCounter,
    package_findings,
    scope,
)


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    command = moto_server_command()
    if command is None:
        sys.exit('moto_server is not installed: pip install "moto[server]"')
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([command, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            reset(endpoint)
            return process, endpoint
        except OSError:
            time.sleep(0.1)
    process.terminate()
    sys.exit(f"moto_server did not answer on {endpoint}")


def paced_seconds(calls: int, rate: Rate) -> float:
    """The least time `calls` requests take under a token bucket that starts full."""
    return max(0, calls - rate.burst) / rate.per_second


def measure(label: str, request: PublishRequest, settings: PublishSettings) -> None:
    session = boto3.session.Session(region_name=settings.region)
    imports = CallCounter(session)
    reads = CallCounter(session, "GetFindings")
    started = time.perf_counter()
    outcome = publish(request, settings, session=session)
    elapsed = time.perf_counter() - started
    count = len(request.findings)
    optimum = math.ceil(count / 100)
    achieved = count / elapsed
    configured = settings.import_rate.per_second * 100
    floor = paced_seconds(reads.calls, settings.get_findings_rate) + paced_seconds(imports.calls, settings.import_rate)
    print(f"{label}: {outcome.summary_line()} in {elapsed:.2f} s")
    print(f"  requests:   {imports.calls} / {optimum} = {imports.calls / optimum:.2f}"
          f"  (and {reads.calls} GetFindings pages)")
    print(f"  throughput: {achieved:.0f} / {configured:.0f} findings/s = {achieved / configured:.2f}"
          f"  (API floor {floor:.1f} s: {elapsed / max(floor, 1e-9):.2f}x of it)")
    if outcome.failed:
        sys.exit(f"{len(outcome.failed)} findings were not imported")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=10_000, help="N (keep ≤10,000: moto's storage is O(n²))")
    parser.add_argument("--rate", type=float, default=IMPORT_RATE.per_second, help="calls per second")
    parser.add_argument("--burst", type=int, default=IMPORT_RATE.burst, help="burst of calls")
    args = parser.parse_args()
    os.environ.update(DUMMY_ENVIRONMENT)
    with tempfile.TemporaryDirectory() as home:
        os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(Path(home) / "none")
        process, endpoint = start_moto()
        try:
            settings = PublishSettings(region="us-east-1", endpoint_url=endpoint,
                                       import_rate=Rate(per_second=args.rate, burst=args.burst))
            request = PublishRequest(findings=package_findings(args.findings), scope=scope())
            measure("first import", request, settings)
            measure("re-run", request, settings)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
