"""`autofill llm-sim`: the wire-level LLM simulator as a server of its own."""

from __future__ import annotations

import click
from aiohttp import web
from pydantic import ValidationError

from autofill.llm.simulator import Fault, SimConfig, SimState, build_app

FAULTS = ", ".join(f.value for f in Fault if f != Fault.OK)


def _rates(values: tuple[str, ...]) -> dict[str, float]:
    rates = {}
    for item in values:
        fault, sep, rate = item.partition("=")
        if not sep:
            raise click.BadParameter(
                f"{item!r}: use FAULT=RATE, e.g. 429=0.1", param_hint="--error-rate"
            )
        try:
            rates[fault] = float(rate)
        except ValueError:
            raise click.BadParameter(
                f"{rate!r} is not a number", param_hint="--error-rate"
            ) from None
    return rates


@click.command("llm-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8089, show_default=True, type=click.IntRange(0, 65535))
@click.option("--latency-ms", default=0.0, show_default=True, type=click.FloatRange(0))
@click.option(
    "--jitter",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 3),
    help="Log-normal sigma of the latency around its median",
)
@click.option(
    "--error-rate",
    "error_rates",
    multiple=True,
    metavar="FAULT=RATE",
    help=f"Chance per request of a fault; faults: {FAULTS}",
)
@click.option("--rpm", type=click.IntRange(1), default=None, help="Requests per minute it accepts")
@click.option("--tpm", type=click.IntRange(1), default=None, help="Tokens per minute it accepts")
@click.option("--seed", default=0, show_default=True)
def llm_sim(
    host: str,
    port: int,
    latency_ms: float,
    jitter: float,
    error_rates: tuple[str, ...],
    rpm: int | None,
    tpm: int | None,
    seed: int,
) -> None:
    """Serve simulated OpenAI and Anthropic APIs. Every answer is marked [sim].

    Point OPENAI_BASE_URL at http://HOST:PORT/v1, ANTHROPIC_BASE_URL at http://HOST:PORT, or
    AUTOFILL_SIM_URL at http://HOST:PORT/v1 for `sim:` models. A catalogue model (see `autofill
    models`) is simulated strictly: the simulator refuses what that model's API refuses, as it
    refuses it."""
    try:
        config = SimConfig(
            latency_ms=latency_ms,
            jitter=jitter,
            error_rates=_rates(error_rates),
            rpm=rpm,
            tpm=tpm,
            seed=seed,
        )
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"], param_hint="--error-rate") from None
    click.echo(
        f"LLM simulator on http://{host}:{port} (answers are simulated and marked [sim])", err=True
    )
    web.run_app(build_app(SimState(config)), host=host, port=port, print=None, access_log=None)
