"""No credential in any log or output: the masking filter, its forms, and the paths text leaves by.

The tokens hold `/`, `+` and `=` on purpose: those are the characters that percent-encoding,
form-encoding and base64 change, so a mask of the raw value alone would miss them.
"""

from __future__ import annotations

import base64
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from pipeline import secret_mask
from pipeline.cli import main
from pipeline.scanners.base import Options, ScanContext
from pipeline.scanners.dependency_check import SCANNER as DEPENDENCY_CHECK
from tests.pipeline.scanners.test_zap import API_KEY, TARGET, ZapStub, zap  # noqa: F401 - the fixture

TOKEN = "tg/Secret+Token=with/slash+plus=="  # noqa: S105 - a planted test value


def spellings(secret: str) -> list[str]:
    """What a leak would look like: raw, in a URL, in a form body, in base64 and in HTTP Basic."""
    header = f"Bearer {secret}"
    return [secret, quote(secret, safe=""), quote(secret), quote_plus(secret), quote_plus(header),
            base64.b64encode(secret.encode()).decode(), base64.urlsafe_b64encode(secret.encode()).decode(),
            base64.b64encode(f"{secret}:".encode()).decode()]


def leaks(text: str, secret: str = TOKEN) -> list[str]:
    return [form for form in spellings(secret) if form in text]


def test_every_spelling_is_masked() -> None:
    secret_mask.register(TOKEN)
    text = " | ".join(spellings(TOKEN))
    assert leaks(text)  # the planted text holds every spelling
    assert leaks(secret_mask.mask(text)) == []


def test_short_values_are_not_registered() -> None:
    secret_mask.register("true", "1")
    assert "true" not in secret_mask.registered()


def test_logging_records_and_their_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    secret_mask.install({"SONAR_TOKEN": TOKEN})
    try:
        raise ValueError(f"401 Unauthorized: token {TOKEN} is not valid")
    except ValueError:
        logging.getLogger("tollgate.test").exception("SonarQube said %s", quote_plus(TOKEN))
    (record,) = caplog.records
    assert leaks(record.getMessage()) == [] and leaks(record.exc_text or "") == []
    assert "***" in record.getMessage()


def test_the_zap_api_dropping_mid_rule_leaks_no_header(zap: tuple[ZapStub, str], tmp_path: Path,  # noqa: F811
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """replacer/action/addRule carries `replacement=Bearer+<token>` in its URL; a dropped connection
    puts that URL in the error message, with or without --debug."""
    stub, url = zap
    answer = stub.answer

    def drop(endpoint: str, params: dict[str, str]) -> Any:
        if endpoint.endswith("/replacer/action/addRule/"):
            raise ConnectionAbortedError("dropped on purpose")  # the handler dies: no response at all
        return answer(endpoint, params)

    monkeypatch.setattr(stub, "answer", drop)
    monkeypatch.setattr(sys, "stderr", sys.stderr)  # install() wraps it: undone after the test
    for name, value in {"ZAP_URL": url, "ZAP_API_KEY": API_KEY, "ZAP_AUTH_HEADER": f"Authorization: Bearer {TOKEN}",
                        "AWS_SECRET_ACCESS_KEY": "aws/Secret+Key=" * 2}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    (tmp_path / "src").mkdir()
    for debug in ((), ("--debug",)):
        main(["scan", str(tmp_path / "src"), "--only", "zap", "--dast-target", TARGET, "--dast-allow", "127.0.0.1",
              "--out", str(out), "--repo", "o/r", "--no-publish", *debug])
        err = capsys.readouterr().err
        assert "zap: failed" in err and "replacement=Bearer+***" in err  # the failure is reported ...
        assert "matchString=Authorization" in err  # (the header's name is no secret)
        assert leaks(err) == [] and leaks(err, "aws/Secret+Key=" * 2) == []  # ... without the token
    written = "".join(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file())
    assert leaks(written) == []


def test_the_nvd_properties_file_is_removed_after_the_run_even_on_failure(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "dependency-check.sh"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho \"reading $4 with key from the property file\" >&2\nexit 7\n", encoding="utf-8")
    fake.chmod(0o755)
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work",
                      env={"PATH": f"{fake.parent}{os.pathsep}/usr/bin:/bin", "NVD_API_KEY": TOKEN})
    with pytest.raises(Exception, match="exited with status 7"):
        DEPENDENCY_CHECK.run(ctx, Options(), time.monotonic() + 60)
    folder = tmp_path / "work" / "dependency-check"
    assert not (folder / "nvd.properties").exists()
    assert leaks("".join(p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file())) == []
