"""One run's outputs belong together: outputs.json (written last) names them, and a run that is
killed, or fails, leaves no outputs.json, no temp file and no scanner running.

The end-to-end tests run the real `tollgate scan` in a subprocess: Bandit (the package's own
dependency) for a complete run, and the real Wapiti against a loopback server that never answers,
so the scan is mid-run when it gets SIGTERM.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline import atomic
from pipeline.atomic import write_atomic
from pipeline.errors import ConfigError
from pipeline.run_manifest import MANIFEST, check_member, manifest_run
from pipeline.termination import Terminated
from tests.conftest import ROOT
from tests.loopback import serving


def manifest(folder: Path) -> dict[str, dict[str, object]]:
    return {entry["path"]: entry for entry in json.loads((folder / MANIFEST).read_text())["files"]}


def test_the_manifest_names_every_file_of_the_run_with_its_hash(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "copy.json"
    with manifest_run(out, "test"):
        write_atomic(out / "results.json", b"{}")
        write_atomic(out / "sarif" / "sast.sarif", "sarif")
        write_atomic(out / "results.json", b'{"findings": []}')  # written twice: the last write counts
        write_atomic(elsewhere, b"x")
        write_atomic(os.devnull, b"not a file of the run")
    files = manifest(out)
    assert set(files) == {"results.json", "sarif/sast.sarif", str(elsewhere)}
    assert files["results.json"] == {"path": "results.json", "size": 16,
                                     "sha256": hashlib.sha256(b'{"findings": []}').hexdigest()}
    document = json.loads((out / MANIFEST).read_text())
    assert document["format"] == "tollgate-outputs/1" and document["command"] == "test" and document["run"]
    check_member(out / "results.json")


def test_a_stale_manifest_goes_first_and_a_failed_run_writes_none(tmp_path: Path) -> None:
    with manifest_run(tmp_path, "test"):
        write_atomic(tmp_path / "results.json", b"old")
    with pytest.raises(RuntimeError), manifest_run(tmp_path, "test"):
        assert not (tmp_path / MANIFEST).exists(), "removed before the run writes anything"
        write_atomic(tmp_path / "results.json", b"new")
        raise RuntimeError("the run dies half-way")
    assert not (tmp_path / MANIFEST).exists()
    with pytest.raises(ConfigError, match="did not finish"):
        check_member(tmp_path / "results.json")


def test_a_file_changed_after_the_run_is_not_a_member(tmp_path: Path) -> None:
    with manifest_run(tmp_path, "test"):
        write_atomic(tmp_path / "results.json", b"mine")
    (tmp_path / "results.json").write_bytes(b"another run's")
    with pytest.raises(ConfigError, match="from another run"):
        check_member(tmp_path / "results.json")
    (tmp_path / MANIFEST).write_text("[]")
    with pytest.raises(ConfigError, match="not a Tollgate outputs manifest"):
        check_member(tmp_path / "results.json")


def test_an_enclosing_run_names_the_inner_runs_files_too(tmp_path: Path) -> None:
    """The scan action wraps `run_scan`: its outputs.json also names the sidecar and split SARIF."""
    with manifest_run(tmp_path, "scan action"):
        with manifest_run(tmp_path, "scan"):
            write_atomic(tmp_path / "results.json", b"{}")
        write_atomic(tmp_path / "scanned.json", b"[]")
    assert set(manifest(tmp_path)) == {"results.json", "scanned.json"}


def test_a_signal_in_the_middle_of_a_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def terminated(fd: int) -> None:
        raise Terminated(signal.SIGTERM)

    monkeypatch.setattr(atomic.os, "fsync", terminated)
    with pytest.raises(Terminated):
        write_atomic(tmp_path / "big.json", b"x" * 4_000_000)
    assert list(tmp_path.iterdir()) == []


# --- the real command in a subprocess ------------------------------------------------------------


def tollgate(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def processes_naming(text: str) -> list[int]:
    """Live processes whose command line holds `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            state = (entry / "status").read_text()
        except (OSError, ValueError):
            continue
        if text in cmdline and "State:\tZ" not in state:
            found.append(int(entry.name))
    return found


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts and never answers, until the test ends."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(60)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server) as url:
        try:
            yield url
        finally:
            release.set()


@pytest.mark.skipif(shutil.which("wapiti") is None, reason="Wapiti is not installed")
def test_sigterm_mid_scan_leaves_no_manifest_no_temp_file_and_no_scanner(tmp_path: Path, silent_server: str) -> None:
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    (source / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    common = ("--out", str(out), "--repo", "tollgate-dev/manifest-test", "--no-publish")
    first = tollgate("scan", str(source), "--only", "bandit", *common)
    assert first.wait(timeout=120) in (0, 1), first.stderr.read() if first.stderr else ""
    files = manifest(out)
    assert {"results.json", "tollgate.sarif", "asff.json", "summary.md", "report.html", "ocsf.json"} <= set(files)
    for name, entry in files.items():
        data = (out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
    port = silent_server.rsplit(":", 1)[1]
    second = tollgate("scan", str(source), "--only", "wapiti", "--dast-target", silent_server + "/",
                      "--dast-allow", f"127.0.0.1:{port}", *common)
    deadline = time.monotonic() + 60
    while not (scanners := [p for p in processes_naming(str(out / "raw")) if p != second.pid]):
        assert time.monotonic() < deadline and second.poll() is None, "Wapiti never started"
        time.sleep(0.1)
    assert not (out / MANIFEST).exists(), "the previous run's manifest goes before this run writes"
    second.send_signal(signal.SIGTERM)
    code = second.wait(timeout=30)
    stderr = second.stderr.read() if second.stderr else ""
    assert code == 128 + signal.SIGTERM, stderr
    assert "tollgate: error: terminated by SIGTERM" in stderr and "Traceback" not in stderr
    time.sleep(0.2)
    assert [p for p in scanners if p in processes_naming(str(out))] == [], "Wapiti outlived the scan"
    assert not (out / MANIFEST).exists()
    assert [p for p in out.rglob("*") if p.name.endswith(".tmp")] == []
    assert not (out / "raw").exists(), "the scanners' raw reports (which quote secrets) are removed"
    with pytest.raises(ConfigError):
        check_member(out / "results.json")  # the first run's file, now named by no manifest
