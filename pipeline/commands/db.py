"""`tollgate db update [--kev-url URL] [--timeout S]`: refresh the CISA KEV catalog where the network allows.

The catalog is fetched, checked against CISA's own JSON Schema (bundled beside the snapshot) and
written atomically to `$TOLLGATE_DATA_DIR/kev/` (default `~/.cache/tollgate/kev/`), where
`normalize` and `scan` read it. Offline, nothing changes and the notice says which catalog will be
used and how old it is: exit 0, because the bundled snapshot is there. A download that is not a KEV
catalog is refused and the copy already there is kept: exit 3.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from normalizers.kev import KevCatalogError, load_catalog, parse_catalog, refreshed_path
from pipeline.atomic import write_atomic
from pipeline.errors import ExitCode

KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    update = actions.add_parser("update", help="fetch the current CISA KEV catalog")
    update.add_argument("--kev-url", default=KEV_URL, metavar="URL", help=f"where to fetch it (default: {KEV_URL})")
    update.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds to wait (default: 30)")


def run(args: argparse.Namespace) -> int:
    import requests  # noqa: PLC0415 - lazy: only this verb talks to the network

    today = datetime.now(timezone.utc).date()
    try:
        response = requests.get(args.kev_url, timeout=args.timeout)
        response.raise_for_status()
    except requests.RequestException as exc:
        print(f"tollgate: notice: could not refresh the KEV catalog ({type(exc).__name__}); using the "
              f"{load_catalog().notice(today)}", file=sys.stderr)
        return ExitCode.PASSED
    try:
        catalog = parse_catalog(response.content, args.kev_url)
    except KevCatalogError as exc:
        print(f"tollgate: error: {exc}; kept the {load_catalog().notice(today)}", file=sys.stderr)
        return ExitCode.TOOL_FAILED
    target = refreshed_path()
    write_atomic(target, response.content)
    print(f"tollgate: KEV catalog {catalog.version} ({len(catalog.entries)} entries) written to {target}")
    return ExitCode.PASSED
