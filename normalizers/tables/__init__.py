"""Data tables the normalizers read: check equivalences and severity calibration (see docs/severity.md)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

# libyaml's loader reads the bundled tables several times faster than the pure-Python one, and a scan or
# report waits on them; both build the same plain values from these files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_table(package: str, name: str) -> Any:
    """A YAML table bundled in `package` (a data file, never user input)."""
    return yaml.load(resources.files(package).joinpath(name).read_text("utf-8"), Loader=_LOADER)  # noqa: S506
