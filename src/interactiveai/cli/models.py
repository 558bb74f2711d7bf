"""`interactiveai models`: per-project model price definitions."""

from __future__ import annotations

from pathlib import Path

import click

from interactiveai.cli.common import engine_for, with_database_options


@click.group()
def models() -> None:
    """Per-project model price definitions (they win over the packaged catalog)."""


@models.command("list")
@click.option("--project", "project_id", required=True)
@with_database_options
def models_list(project_id: str, data_dir: Path | None, database_url: str | None) -> None:
    from interactiveai.server.costs.models import list_models

    definitions, _ = list_models(engine_for(data_dir, database_url), project_id, limit=1000)
    for model in definitions:
        prices = ", ".join(f"{usage}={price:g}" for usage, price in sorted(model.prices.items()))
        click.echo(f"{model.id}\t{model.model_name}\t{model.match_pattern}\t{model.unit}\t{prices}")


@models.command("create")
@click.option("--project", "project_id", required=True)
@click.option("--name", "model_name", required=True, help="Model name, e.g. my-finetune.")
@click.option("--match", "match_pattern", required=True, help="Regex (RE2 syntax) matched against the model name.")
@click.option("--input-price", type=float, help="USD per input unit (token).")
@click.option("--output-price", type=float, help="USD per output unit (token).")
@click.option("--price", "extra_prices", multiple=True, help="USAGE_TYPE=USD per unit, repeatable.")
@click.option("--start-date", help="ISO date or date-time (UTC unless it has an offset) from which these apply.")
@click.option("--unit", default="TOKENS", show_default=True)
@with_database_options
def models_create(
    project_id: str,
    model_name: str,
    match_pattern: str,
    input_price: float | None,
    output_price: float | None,
    extra_prices: tuple[str, ...],
    start_date: str | None,
    unit: str,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    from interactiveai.server.costs.models import (
        ModelConflictError,
        ModelValidationError,
        create_model,
        parse_start_date,
    )

    prices: dict[str, float] = {}
    for item in extra_prices:
        usage, _, value = item.partition("=")
        try:
            prices[usage.strip()] = float(value)
        except ValueError:  # no "=", or no number after it
            raise click.BadParameter(f"expected USAGE_TYPE=PRICE, got {item!r}", param_hint="--price") from None
    try:
        model = create_model(
            engine_for(data_dir, database_url),
            project_id,
            model_name=model_name,
            match_pattern=match_pattern,
            start_date_us=parse_start_date(start_date) if start_date else None,
            unit=unit,
            prices=prices or None,
            input_price=input_price,
            output_price=output_price,
        )
    except (ModelValidationError, ModelConflictError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"model {model.id} ({model.model_name})")


@models.command("delete")
@click.option("--project", "project_id", required=True)
@click.argument("model_id")
@with_database_options
def models_delete(project_id: str, model_id: str, data_dir: Path | None, database_url: str | None) -> None:
    from interactiveai.server.costs.models import delete_model

    if not delete_model(engine_for(data_dir, database_url), project_id, model_id):
        raise click.ClickException(f"no model {model_id!r} in project {project_id!r}")
    click.echo(f"deleted {model_id}")
