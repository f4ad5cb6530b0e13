"""The HTML report as PDF, rendered by WeasyPrint with every remote fetch blocked.

Only `file:` and `data:` URLs load. The report itself needs neither (its CSS and charts
are inline), so the fetcher is a second wall behind escaping: were scanner text ever to
reach the markup, it still could not make the renderer call out (SSRF) or leak that a
report was opened. WeasyPrint ≥70 is required: it has the `URLFetcher` class, and it
applies the document's fetcher to every resource (GHSA-jf6q-chmf-3h3v bypassed it before).
"""

from __future__ import annotations

import os
from typing import Any

from pipeline.atomic import write_atomic
from pipeline.errors import ConfigError

ALLOWED_SCHEMES = frozenset({"file", "data"})
INSTALL_TIP = "install the PDF extra: pip install 'tollgate[pdf]' (and Debian's libpango-1.0-0 libharfbuzz-subset0)"


def write_pdf(html: str, out: str | os.PathLike[str]) -> tuple[str, ...]:
    """Render `html` to the PDF file `out` (atomically); returns the URLs that were blocked."""
    html_class, fetcher = _weasyprint()
    document = html_class(string=html, url_fetcher=fetcher)
    write_atomic(out, document.write_pdf())
    return tuple(fetcher.blocked)


def _weasyprint() -> tuple[Any, Any]:
    try:
        import weasyprint  # noqa: PLC0415 - lazy: heavy, and optional
        from weasyprint.urls import URLFetcher  # noqa: PLC0415
    except (ImportError, OSError) as exc:  # OSError: the Pango shared libraries are missing
        raise ConfigError(f"--pdf needs WeasyPrint ≥70, which cannot be loaded ({exc})", tip=INSTALL_TIP) from None

    class LocalOnlyFetcher(URLFetcher):
        """Refuses every scheme but `file` and `data`, and remembers what it refused."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=ALLOWED_SCHEMES, allow_redirects=False, timeout=5)
            self.blocked: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme not in ALLOWED_SCHEMES:
                self.blocked.append(url)
                raise ValueError(f"Tollgate blocks remote fetches in reports: {url}")
            return super().fetch(url, headers)

    return weasyprint.HTML, LocalOnlyFetcher()
