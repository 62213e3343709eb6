"""``reconciler emulator serve``: Atlan's workflow API, emulated, on a loopback port."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

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
