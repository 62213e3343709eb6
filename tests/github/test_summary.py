"""The job summary is appended to GITHUB_STEP_SUMMARY, and skipped with a log line when it is unset."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from reconciler.errors import GitHubError
from reconciler.github import GitHubContext, write_step_summary
from reconciler.render.plan import render_markdown
from tests.github.conftest import empty_plan, sample_plan


def test_the_summary_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("## earlier step\n")
    context = GitHubContext.from_environ({"GITHUB_STEP_SUMMARY": str(path)})

    assert write_step_summary(context, render_markdown(sample_plan()))
    assert write_step_summary(context, render_markdown(empty_plan()))

    text = path.read_text()
    assert text.startswith("## earlier step\n")
    assert text.count("### reconciler plan for instance `default`") == 2
    assert "**Plan: 1 to create, 1 to update, 1 to rerun, 0 to archive.**" in text
    assert "No changes. The tenant matches the manifests." in text


def test_without_the_variable_nothing_is_written(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.github")
    assert not write_step_summary(GitHubContext.from_environ({}), "hello")
    assert "GITHUB_STEP_SUMMARY is not set" in caplog.text


def test_an_unwritable_summary_is_a_clear_error(tmp_path: Path) -> None:
    context = GitHubContext.from_environ({"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "such" / "dir.md")})
    with pytest.raises(GitHubError, match="cannot write the job summary GITHUB_STEP_SUMMARY="):
        write_step_summary(context, "hello")
