"""The job summary: markdown appended to the file named by GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import logging

from reconciler.errors import GitHubError
from reconciler.github._body import SUMMARY_LIMIT, fit
from reconciler.github._context import GitHubContext

logger = logging.getLogger("reconciler.github")


def write_step_summary(context: GitHubContext, markdown: str) -> bool:
    """Append ``markdown`` to the job summary; False (and a log line) when GITHUB_STEP_SUMMARY is unset."""
    if context.step_summary is None:
        logger.info("GITHUB_STEP_SUMMARY is not set; not writing the job summary")
        return False
    text = fit(markdown.rstrip("\n") + "\n", SUMMARY_LIMIT)
    try:
        with context.step_summary.open("a", encoding="utf-8") as summary:
            summary.write(text + "\n")
    except OSError as exc:
        raise GitHubError(
            f"cannot write the job summary GITHUB_STEP_SUMMARY={str(context.step_summary)!r}: "
            f"{exc.strerror or exc}"
        ) from exc
    return True
