"""Argument parsing, dispatch and the one error boundary; no business logic lives here.

Each subcommand is a function in ``reconciler.commands`` returning an exit code. ``main`` turns
expected errors (``ReconcilerError``) into one clear line on stderr and exit 1, a ManifestError
into one line per problem, and anything unexpected into a traceback that asks for a bug report.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

if TYPE_CHECKING:
    from reconciler.plan.model import PruneOptions
    from reconciler.settings import Settings

from reconciler import collector, console
from reconciler.commands import emulator
from reconciler.errors import ManifestError, ReconcilerError
from reconciler.redaction import SECRETS, ScrubbingFilter
from reconciler.render.formats import OutputFormat, RenderFormat, SchemaFormat

app = typer.Typer(
    name="reconciler",
    help="Atlan asset-import and lineage-builder workflows as code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Paths = Annotated[
    list[Path],
    typer.Argument(help="Manifest files or directories (searched recursively).", show_default=False),
]


Output = Annotated[OutputFormat, typer.Option("--output", "-o", help="Output format.")]
Prune = Annotated[
    bool,
    typer.Option("--prune", help="Archive managed workflows whose manifest is gone (not protected ones)."),
]
MaxPrune = Annotated[
    str,
    typer.Option(
        "--max-prune",
        help="Refuse to prune more than this: a share of the managed workflows (20%) or a count (3).",
    ),
]


def _settings() -> Settings:
    # Imported when a command runs, not when the CLI starts: `--help` and `--version` need none.
    from reconciler.settings import load_settings

    return load_settings()


def _prune(prune: bool, max_prune: str) -> PruneOptions:
    from reconciler.plan.model import PruneLimit, PruneOptions

    try:
        return PruneOptions(prune, PruneLimit.parse(max_prune))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-prune") from None


def _version(value: bool) -> None:
    if value:
        console.out(f"reconciler {version('reconciler')}")
        raise typer.Exit


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record, not at construction."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


_LOG_HANDLER = _StderrHandler()
_LOG_HANDLER.addFilter(ScrubbingFilter())
_LOG_HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def _configure_logging(level: int) -> None:
    # Only our own logger: the root logger belongs to whoever embeds us (and to pytest's caplog).
    logger = logging.getLogger("reconciler")
    logger.setLevel(level)
    if _LOG_HANDLER not in logger.handlers:
        logger.addHandler(_LOG_HANDLER)


@app.callback()
def _root(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output.")] = 0,
    _: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _configure_logging(logging.WARNING - 10 * min(verbose, 2))


@app.command()
def validate(
    paths: Paths,
    skip_env: Annotated[
        bool, typer.Option("--skip-env", help="Do not check that ${env:NAME} variables are set.")
    ] = False,
) -> int:
    """Check manifests; exit 0 when valid, 1 with every problem listed."""
    from reconciler.commands.validate import validate as run

    return run(paths, skip_env=skip_env, settings=_settings(), environ=os.environ)


@app.command()
def render(
    paths: Paths,
    output: Annotated[
        RenderFormat, typer.Option("--output", "-o", help="Output format.")
    ] = RenderFormat.json,
    files: Annotated[
        Path | None,
        typer.Option(
            "--files",
            help="Instead, write the files the sources generate to DIR/<manifest name>/<section>.csv.",
            metavar="DIR",
            show_default=False,
        ),
    ] = None,
) -> int:
    """Print the workflow requests the manifests compile to (secrets masked), or write the files
    their data sources generate."""
    from reconciler.commands.render import render as run

    return run(paths, output=output, settings=_settings(), environ=os.environ, files=files)


@app.command()
def schema(
    output: Annotated[
        SchemaFormat, typer.Option("--output", "-o", help="Output format.")
    ] = SchemaFormat.json,
) -> int:
    """Print the JSON Schema of the manifest format (or its markdown field reference)."""
    from reconciler.commands.schema import schema as run

    return run(output=output)


@app.command()
def plan(
    paths: Paths,
    output: Output = OutputFormat.text,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when changes are pending, 0 when none.")
    ] = False,
    prune: Prune = False,
    max_prune: MaxPrune = "20%",
    out: Annotated[
        Path | None, typer.Option("--out", help="Save the plan; `reconciler apply FILE` carries it out.")
    ] = None,
    github_comment: Annotated[
        bool,
        typer.Option("--github-comment", help="Post or update the plan as one comment on the pull request."),
    ] = False,
) -> int:
    """Show what apply would do: create, update, rerun, adopt or archive."""
    from reconciler.commands.plan import plan_command

    return plan_command(
        paths,
        output=output,
        detailed_exitcode=detailed_exitcode,
        prune=_prune(prune, max_prune),
        out=out,
        github_comment=github_comment,
        settings=_settings(),
        environ=os.environ,
    )


@app.command()
def apply(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Manifest files or directories, or one plan file saved by `plan --out`.", show_default=False
        ),
    ],
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")
    ] = False,
    prune: Prune = False,
    max_prune: MaxPrune = "20%",
    parallelism: Annotated[
        int | None,
        typer.Option("--parallelism", min=1, max=64, help="Concurrent writes (RECONCILER_PARALLELISM)."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow started runs to a final phase.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds --wait may take.")] = 1800.0,
    github_check_plan: Annotated[
        bool,
        typer.Option(
            "--github-check-plan", help="Stop when the plan differs from the one reviewed in the PR."
        ),
    ] = False,
    proceed_on_plan_mismatch: Annotated[
        bool, typer.Option("--proceed-on-plan-mismatch", help="With --github-check-plan: warn, do not stop.")
    ] = False,
    github_summary: Annotated[
        bool, typer.Option("--github-summary", help="Write the plan and results to the Actions job summary.")
    ] = False,
) -> int:
    """Create, update and rerun workflows so the tenant matches the manifests (or apply a saved plan)."""
    from reconciler.commands.apply import apply_command

    return apply_command(
        paths,
        auto_approve=auto_approve,
        prune=_prune(prune, max_prune),
        parallelism=parallelism,
        wait=wait,
        timeout=timeout,
        github_check_plan=github_check_plan,
        proceed_on_plan_mismatch=proceed_on_plan_mismatch,
        github_summary=github_summary,
        settings=_settings(),
        environ=os.environ,
    )


app.add_typer(emulator.app, name="emulator")


@app.command()
def drift(
    paths: Paths,
    output: Output = OutputFormat.text,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore", help="A JSON pointer whose drift is known (repeatable), e.g. /parameters/x."
        ),
    ] = None,
    github_issue: Annotated[
        bool,
        typer.Option(
            "--github-issue", help="Keep one `drift` issue open while drift lasts; close it when clean."
        ),
    ] = False,
    credentials: Annotated[
        bool,
        typer.Option(
            "--credentials/--no-credentials",
            help="Read each recorded credential's metadata to find edits made outside git (a request each).",
        ),
    ] = True,
    content: Annotated[
        bool,
        typer.Option(
            "--content/--no-content",
            help="HEAD each uploaded file to find one replaced or deleted outside git (a request each).",
        ),
    ] = True,
) -> int:
    """Read-only: report edits made outside git, missing workflows and failed runs (exit 3)."""
    from reconciler.commands.drift import drift_command

    return drift_command(
        paths,
        output=output,
        ignore=ignore or [],
        github_issue=github_issue,
        check_credentials=credentials,
        check_content=content,
        settings=_settings(),
        environ=os.environ,
    )


@app.command()
def export(
    all_: Annotated[
        bool, typer.Option("--all", help="Every asset-import and lineage-builder workflow, managed or not.")
    ] = False,
    name: Annotated[list[str] | None, typer.Option("--name", help="This workflow (repeatable).")] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Write one file per manifest here (default: stdout)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> int:
    """Write manifests for live workflows (default: this instance's); unmanaged ones get `adopt:`."""
    from reconciler.commands.export import export_command

    return export_command(
        names=_either(name or [], all_),
        everything=all_,
        output_dir=output_dir,
        force=force,
        settings=_settings(),
        environ=os.environ,
    )


def _either(names: list[str], everything: bool) -> list[str]:
    if names and everything:
        raise typer.BadParameter("give --all or --name, not both", param_hint="'--all' / '--name'")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: run one command inside the error boundary and return its exit code."""
    try:
        result = app(
            args=list(argv) if argv is not None else None, prog_name="reconciler", standalone_mode=False
        )
    except ManifestError as exc:
        for problem in exc.problems:
            console.err(str(problem))
        console.err(f"error: {exc}")
        return 1
    except ReconcilerError as exc:
        console.err(f"error: {exc}")
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.err("aborted")
        return 130
    except typer.TyperException as exc:
        # Usage errors: typer's own message and exit code (2), as every click CLI does.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        return int(getattr(exc, "exit_code", 2))
    except Exception:
        console.err(SECRETS.scrub(traceback.format_exc()))
        console.err("internal error: this is a bug in reconciler; please report it with the traceback above")
        return 1
    return result if isinstance(result, int) else 0


def run() -> int:
    """The ``reconciler`` console script: ``main`` in a process that lives for one command."""
    collector.for_one_command()
    return main()


if __name__ == "__main__":
    sys.exit(run())
