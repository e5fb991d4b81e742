"""``bh token``: the API tokens of the deployment whose storage this project uses.

Tokens live in instance storage, so these commands need no server, and a running server sees
a new or revoked token on its next request.
"""

from __future__ import annotations

import re
import time

import click

from bakehouse.cli import json_output
from bakehouse.cli.context import open_instance_here
from bakehouse.cli.output import console, format_time
from bakehouse.errors import StorageError
from bakehouse.storage.records import ApiTokenRecord


@click.group()
def token() -> None:
    """Create, list and revoke the tokens that may use the API and the UI."""


_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d{1,6})([mhdw])")


def parse_duration(text: str) -> float:
    """Seconds in ``90m``, ``12h``, ``30d`` or ``2w``; BadParameter for anything else."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise click.BadParameter(
            f"{text[:40]!r} is not a duration like 90m, 12h, 30d or 2w", param_hint="--expires"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


@token.command("create")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="May see everything but launch or change nothing.")
@click.option(
    "--expires",
    metavar="DURATION",
    help="Refuse the token after this long: 90m, 12h, 30d, 2w (default: never).",
)
@json_output.option
def create(name: str, read_only: bool, expires: str | None, as_json: bool) -> None:
    """Create a token called NAME and print it (it is shown only this once).

    The token goes to standard output alone, so `TOKEN=$(bh token create ci)` keeps it. With
    --json: ``{"name", "read_only", "created_at", "expires_at", "last_used_at", "token"}``.
    """
    expires_at = time.time() + parse_duration(expires) if expires else None
    with open_instance_here() as instance:
        try:
            record, secret = instance.create_api_token(
                name, read_only=read_only, expires_at=expires_at
            )
        except (StorageError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    rights = "read-only" if record.read_only else "full"
    until = f", valid until {format_time(expires_at)}" if expires_at else ""
    console(stderr=True).print(
        f"Token [bold]{record.name}[/] ({rights}{until}) created. It is not stored and cannot be "
        "shown again: keep it now. Use it as 'Authorization: Bearer TOKEN', or log in with it in "
        "the UI."
    )
    if as_json:
        json_output.emit({**_token_json(record), "token": secret})
    else:
        click.echo(secret)


def _token_json(record: ApiTokenRecord) -> dict[str, object]:
    return {
        "name": record.name,
        "read_only": record.read_only,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "last_used_at": record.last_used_at,
    }


@token.command("list")
@json_output.option
def list_tokens(as_json: bool) -> None:
    """List the tokens by name, with their rights, expiry and last use (never the tokens
    themselves; the last use is kept to the minute). With --json: ``[{"name", "read_only",
    "created_at", "expires_at", "last_used_at"}]``."""
    with open_instance_here() as instance:
        records = instance.get_api_tokens()
    if as_json:
        json_output.emit([_token_json(r) for r in records])
        return
    out = console()
    if not records:
        out.print("No tokens. Create one with: bh token create NAME")
        return
    now = time.time()
    for record in records:
        rights = "read-only" if record.read_only else "full"
        if record.expires_at is None:
            expiry = "never expires"
        else:
            word = "expired" if record.expired(now) else "expires"
            expiry = f"{word} {format_time(record.expires_at)}"
        used = format_time(record.last_used_at) if record.last_used_at else "never"
        out.print(
            f"{record.name}\t{rights}\tcreated {format_time(record.created_at)}\t{expiry}"
            f"\tlast used {used}",
            highlight=False,
        )


@token.command("revoke")
@click.argument("name")
@json_output.option
def revoke(name: str, as_json: bool) -> None:
    """Revoke the token called NAME: requests carrying it are refused from now on. With
    --json: ``{"name", "revoked": true}``."""
    with open_instance_here() as instance:
        if not instance.revoke_api_token(name):
            raise click.ClickException(f"no token named '{name}' (see bh token list)")
    if as_json:
        json_output.emit({"name": name, "revoked": True})
    console().print(f"Token [bold]{name}[/] revoked.")
