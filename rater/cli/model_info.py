"""``rater model-info``: set or show a model's card (click wiring only)."""

from __future__ import annotations

import click

from rater.cli.support import friendly_errors, open_client
from rater.intake.model_card import CARD_FIELDS

__all__ = ["model_info"]


@click.command("model-info")
@click.argument("leaderboard_id")
@click.argument("model")
@click.option("--organization", help="Who made the model (one line, up to 100 characters).")
@click.option("--url", help="An http:// or https:// link about the model ('' clears it).")
@click.option("--license", "license_", help='Its licence, e.g. "Apache-2.0".')
@click.option("--released", help="Its release date, YYYY-MM-DD.")
@click.option("--description", help="A few words about it (up to 1,000 characters).")
@friendly_errors
def model_info(leaderboard_id: str, model: str, organization: str | None, url: str | None,
               license_: str | None, released: str | None, description: str | None) -> None:
    """Set a model's card (organisation, link, licence, release date, description), shown on
    the site's model page and standings; with no option, print it.

    Only the options given change; an empty value ('') clears a field. All or nothing: a bad
    value (a link that is not http(s), a date that is not a real day) changes nothing.

    Example:

    \b
        rater model-info k7gq2mxa painter-v2 --organization "Acme Labs" \\
            --url https://example.org/painter --license Apache-2.0 --released 2025-03-01
    """
    lb = open_client().mri.get_leaderboard_by_id(leaderboard_id)
    changes = {"organization": organization, "url": url, "license": license_,
               "released": released, "description": description}
    if all(v is None for v in changes.values()):
        card = lb.model_info(model)
    else:
        card = lb.set_model_info(model, **changes)
    for field in CARD_FIELDS:
        click.echo(f"{field}: {getattr(card, field)}")
