"""`tollgate db update [--kev-url URL] [--epss-url URL] [--timeout S]`: refresh the data feeds where the network allows.

Two feeds: CISA's KEV catalog, checked against CISA's own JSON Schema (bundled beside the snapshot),
and FIRST's EPSS snapshot (`epss_scores-current.csv.gz`), checked line by line. Each is written
atomically under `$TOLLGATE_DATA_DIR` (default `~/.cache/tollgate/`), in `kev/` and `epss/`, where
`normalize`, `scan` and `gate` read them. Downloads are https only (a loopback mirror for tests)
and never follow a redirect out of https (pipeline.action.download). Offline, nothing changes and a
notice says what will be used: exit 0, because KEV has a bundled snapshot and EPSS is optional. A
download that is not what it should be is refused and the copy already there is kept: exit 3.
A URL that is not https is the user's error: exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from normalizers import epss, kev
from pipeline.action.download import checked_url, fetch_bytes
from pipeline.atomic import write_atomic
from pipeline.errors import ExitCode, ScannerError

KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"  # FIRST's daily snapshot


@dataclass(frozen=True)
class Feed:
    name: str
    target: Callable[[], Path]
    check: Callable[[bytes, str], str]  # the download's one-line description; ValueError when it is not the feed
    fallback: Callable[[], str]  # what is used when the refresh fails


def _kev_check(data: bytes, source: str) -> str:
    catalog = kev.parse_catalog(data, source)
    return f"KEV catalog {catalog.version} ({len(catalog.entries)} entries)"


def _epss_check(data: bytes, source: str) -> str:
    return epss.parse_snapshot(data, source).notice().replace(f", {source}", "")


def _kev_fallback() -> str:
    return f"the {kev.load_catalog().notice(datetime.now(timezone.utc).date())}"


def _epss_fallback() -> str:
    snapshot = epss.load_snapshot(None)
    return f"the {snapshot.notice()}" if snapshot else "no EPSS scores (give --epss FILE)"


FEEDS = {
    "kev": Feed("the KEV catalog", kev.refreshed_path, _kev_check, _kev_fallback),
    "epss": Feed("the EPSS snapshot", epss.refreshed_path, _epss_check, _epss_fallback),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    update = actions.add_parser("update", help="fetch the current CISA KEV catalog and FIRST EPSS snapshot")
    update.add_argument("--kev-url", default=KEV_URL, metavar="URL", help=f"where to fetch KEV (default: {KEV_URL})")
    update.add_argument("--epss-url", default=EPSS_URL, metavar="URL",
                        help=f"where to fetch EPSS (default: {EPSS_URL})")
    update.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds to wait (default: 30)")


def _update(feed: Feed, url: str, timeout: float) -> int:
    try:
        data = fetch_bytes(url, timeout)
    except ScannerError as exc:
        print(f"tollgate: notice: could not refresh {feed.name} ({exc}); using {feed.fallback()}", file=sys.stderr)
        return ExitCode.PASSED
    try:
        described = feed.check(data, url)
    except ValueError as exc:
        print(f"tollgate: error: {exc}; kept {feed.fallback()}", file=sys.stderr)
        return ExitCode.TOOL_FAILED
    target = feed.target()
    write_atomic(target, data)
    print(f"tollgate: {described} written to {target}")
    return ExitCode.PASSED


def run(args: argparse.Namespace) -> int:
    urls = {"kev": checked_url(args.kev_url, "--kev-url"), "epss": checked_url(args.epss_url, "--epss-url")}
    return max(_update(FEEDS[name], url, args.timeout) for name, url in urls.items())
