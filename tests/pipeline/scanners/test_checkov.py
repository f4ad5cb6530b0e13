"""Checkov's argv: the framework families with no file in the tree are skipped, and only those."""

from __future__ import annotations

from pathlib import Path

from pipeline.scanners.base import Options, ScanContext
from pipeline.scanners.checkov import SCANNER, absent_frameworks


def test_only_the_framework_families_without_a_file_are_skipped(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "infra").mkdir(parents=True)
    (source / "infra" / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n', encoding="utf-8")
    context = ScanContext(source=source, work_dir=tmp_path / "work")
    absent = set(absent_frameworks(context))
    assert "terraform" not in absent
    assert {"dockerfile", "kubernetes", "cloudformation", "github_actions", "terraform_json"} <= absent
    assert "secrets" not in absent  # it reads every file: never skipped
    (source / "Dockerfile").write_text("FROM alpine:3.19\n", encoding="utf-8")
    (source / ".github" / "workflows").mkdir(parents=True)
    (source / ".github" / "workflows" / "ci.YML").write_text("on: push\n", encoding="utf-8")
    assert set(absent_frameworks(context)) == {"terraform_json", "terraform_plan", "bicep"}


def test_excluded_folders_do_not_count_and_a_frameworks_option_wins(tmp_path: Path) -> None:
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "package.json").write_text("{}", encoding="utf-8")
    context = ScanContext(source=tmp_path, work_dir=tmp_path / "work", exclude=("node_modules",))
    assert "kubernetes" in absent_frameworks(context)
    argv = SCANNER.invocations(context, Options(), "checkov")[0].argv
    assert argv[argv.index("--skip-framework") + 1].split(",") == list(absent_frameworks(context))
    chosen = SCANNER.invocations(context, Options.of({"frameworks": ["kubernetes"]}), "checkov")[0].argv
    assert "--skip-framework" not in chosen
    assert chosen[chosen.index("--framework") + 1] == "kubernetes"
