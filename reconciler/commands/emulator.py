"""``reconciler emulator serve``: Atlan's API, emulated, on a loopback port; ``emulator catalog``
and ``emulator reset``: what the emulated imports put in its local catalog, and emptying it."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from reconciler.emulator.config import ConfigError, EmulatorConfig, FaultConfig

app = typer.Typer(
    name="emulator",
    help="The embedded emulator of Atlan's workflow API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _group() -> None:
    """The embedded emulator of Atlan's workflow API."""


@app.command("serve")
def serve_command(
    api_key: Annotated[
        str,
        typer.Option(
            "--api-key",
            envvar="ATLAN_API_KEY",
            help="The key clients must send as 'Authorization: Bearer <key>' (or set ATLAN_API_KEY).",
            show_default=False,
            show_envvar=True,
        ),
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback only, see --allow-remote).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8765,
    db: Annotated[Path, typer.Option(help="SQLite file holding the state.")] = Path(
        ".reconciler/emulator.db"
    ),
    run_seconds: Annotated[float, typer.Option(help="How long a run takes to finish.")] = 30.0,
    pending_seconds: Annotated[float, typer.Option(help="How long a run is Pending before Running.")] = 1.0,
    failure_rate: Annotated[float, typer.Option(help="Fraction of runs that end Failed.")] = 0.0,
    imports: Annotated[
        bool, typer.Option(help="Carry out import runs (read files, fill the catalog), or only accept them.")
    ] = True,
    role: Annotated[
        str, typer.Option(help="Role reported by whoami ('$api-token-default-access', '$admin', '$member').")
    ] = "$api-token-default-access",
    seed: Annotated[int, typer.Option(help="Seed for every random choice (names, outcomes, faults).")] = 0,
    latency_ms: Annotated[float, typer.Option(help="Fixed delay added to each API request.")] = 0.0,
    jitter_ms: Annotated[float, typer.Option(help="Extra random delay, uniform in [0, jitter].")] = 0.0,
    error_rate_500: Annotated[float, typer.Option(help="Fraction of API requests answered 500.")] = 0.0,
    error_rate_503: Annotated[float, typer.Option(help="Fraction of API requests answered 503.")] = 0.0,
    drop_rate: Annotated[
        float, typer.Option(help="Fraction of API requests whose connection is dropped.")
    ] = 0.0,
    lost_response_rate: Annotated[
        float, typer.Option(help="Fraction of writes committed but not answered (see --lost-response-mode).")
    ] = 0.0,
    lost_response_mode: Annotated[
        str, typer.Option(help="What a lost response looks like: 500, 502, 503, 504 or drop.")
    ] = "503",
    rate_limit: Annotated[
        int, typer.Option(help="Max API requests per --rate-limit-window seconds (0: none); more get 429.")
    ] = 0,
    rate_limit_window: Annotated[float, typer.Option(help="Window of the rate limit, in seconds.")] = 1.0,
    allow_remote: Annotated[bool, typer.Option(help="Allow listening on a non-loopback interface.")] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the workflow API until interrupted; prints the base URL once listening."""
    try:
        faults = FaultConfig(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            error_rate_500=error_rate_500,
            error_rate_503=error_rate_503,
            drop_rate=drop_rate,
            lost_response_rate=lost_response_rate,
            lost_response_mode=lost_response_mode,
            rate_limit=rate_limit,
            rate_limit_window_seconds=rate_limit_window,
        )
        config = EmulatorConfig(
            api_key=api_key,
            db_path=db,
            run_seconds=run_seconds,
            pending_seconds=pending_seconds,
            failure_rate=failure_rate,
            run_imports=imports,
            role=role,
            seed=seed,
            faults=faults,
        )

        def ready(url: str) -> None:
            sys.stdout.write(f"Atlan workflow API emulator listening on {url} (state in {db})\n")
            sys.stdout.flush()

        from reconciler.emulator.server import serve  # uvicorn: only for this command
        from reconciler.settings import ensure_state_dir

        # The database's directory is made like the state directory: private, ignored by git
        # (an existing directory of other files is left as it is).
        try:
            ensure_state_dir(db.parent)
        except OSError as exc:
            from reconciler.commands._files import reason

            raise ConfigError(f"cannot use --db {db}: {reason(exc, db)}") from exc
        serve(config, host=host, port=port, allow_remote=allow_remote, log_level=log_level, on_ready=ready)
    except (ConfigError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(1) from exc


_DB_HELP = "The emulator's SQLite file (default: the embedded emulator's, in RECONCILER_STATE_DIR)."
_LISTED = 200  # entities listed in text; -o json lists all


def _database(db: Path | None) -> Path:
    """``--db``, or the embedded emulator's database; typer.Exit(1) for a bad setting."""
    if db is not None:
        return db
    from reconciler.errors import ReconcilerError
    from reconciler.settings import load_settings

    try:
        return load_settings().state_dir / "emulator.db"
    except ReconcilerError as exc:
        raise _fail(str(exc)) from exc


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(1)


def _row(document: dict[str, Any]) -> tuple[str, str, str, str]:
    attributes = document.get("attributes") or {}
    status = "archived" if document.get("status") == "DELETED" else "active"
    if attributes.get("isPartial"):
        status += " (partial)"
    return (
        str(document.get("typeName")),
        str(attributes.get("name") or ""),
        str(attributes.get("qualifiedName") or ""),
        status,
    )


@app.command("catalog")
def catalog_command(
    type_name: Annotated[
        list[str] | None, typer.Option("--type", "-t", help="List the assets of this type (repeatable).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="List the assets with this name.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="text or json.")] = "text",
    db: Annotated[Path | None, typer.Option(help=_DB_HELP, show_default=False)] = None,
) -> None:
    """What the emulated imports put in the emulator's catalog: each glossary, domain and
    connection with what it holds, counts by type, and (with --type or --name) the assets."""
    from reconciler.emulator.catalog import Catalog
    from reconciler.emulator.catalog_view import summarise
    from reconciler.render.escape import terminal_text
    from reconciler.render.terminal import table_lines

    if output not in ("text", "json"):
        raise _fail(f"--output must be text or json, not {output!r}")
    database = _database(db)
    if not database.is_file():
        documents: list[dict[str, Any]] = []
        counts: dict[str, dict[str, int]] = {}
    else:
        catalog = Catalog(database)
        try:
            documents = list(catalog.select())
            counts = catalog.counts()
        except sqlite3.Error as exc:
            raise _fail(f"cannot read {database}: {exc}") from exc
        finally:
            catalog.close()
    groups = summarise(documents)
    listed = [
        d
        for d in documents
        if (not type_name or d.get("typeName") in type_name)
        and (name is None or (d.get("attributes") or {}).get("name") == name)
    ]
    if output == "json":
        body = {
            "database": str(database),
            "counts": counts,
            "groups": [g.to_json() for g in groups],
            "assets": listed,
        }
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return
    if not counts:
        sys.stdout.write(f"The emulator's catalog ({database}) is empty: no import has run.\n")
        return
    active = sum(c.get("ACTIVE", 0) for c in counts.values())
    archived = sum(n for c in counts.values() for s, n in c.items() if s != "ACTIVE")
    lines = [
        f"The emulator's catalog ({database}): {active} assets"
        + (f", {archived} archived" if archived else "")
    ]
    lines += [f"  {terminal_text(g.describe())}" for g in groups]
    if counts:
        by_type: list[tuple[str, ...]] = [("TYPE", "ACTIVE", "ARCHIVED")]
        by_type += [
            (t, str(c.get("ACTIVE", 0)), str(sum(n for s, n in c.items() if s != "ACTIVE")))
            for t, c in counts.items()
        ]
        lines += ["By type:", *table_lines(by_type, color=False)]
    if type_name or name is not None:
        assets: list[tuple[str, ...]] = [("TYPE", "NAME", "QUALIFIED NAME", "STATUS")]
        assets += [tuple(terminal_text(cell) for cell in _row(d)) for d in listed[:_LISTED]]
        lines += [f"Assets ({len(listed)}):", *table_lines(assets, color=False)]
        if len(listed) > _LISTED:
            lines.append(f"  ... {len(listed) - _LISTED} more (-o json lists them all)")
    sys.stdout.write("\n".join(lines) + "\n")


@app.command("reset")
def reset_command(
    db: Annotated[Path | None, typer.Option(help=_DB_HELP, show_default=False)] = None,
) -> None:
    """Empty the emulator's catalog (its workflows, runs and files stay)."""
    from reconciler.emulator.catalog import Catalog

    database = _database(db)
    if not database.is_file():
        sys.stdout.write(f"Nothing to reset: no emulator state at {database}.\n")
        return
    catalog = Catalog(database)
    try:
        with catalog.transaction():
            removed = catalog.reset()
    except sqlite3.Error as exc:
        raise _fail(f"cannot reset {database}: {exc}") from exc
    finally:
        catalog.close()
    sys.stdout.write(f"Removed {removed} assets from the emulator's catalog ({database}).\n")
