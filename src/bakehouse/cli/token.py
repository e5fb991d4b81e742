"""``bh token``: the API tokens of the deployment whose storage this project uses.

Tokens live in instance storage, so these commands need no server, and a running server sees
a new or revoked token on its next request.
"""

from __future__ import annotations

import click

from bakehouse.cli.context import open_instance_here
from bakehouse.cli.output import console, format_time
from bakehouse.errors import StorageError


@click.group()
def token() -> None:
    """Create, list and revoke the tokens that may use the API and the UI."""


@token.command("create")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="May see everything but launch or change nothing.")
def create(name: str, read_only: bool) -> None:
    """Create a token called NAME and print it (it is shown only this once).

    The token goes to standard output alone, so `TOKEN=$(bh token create ci)` keeps it.
    """
    with open_instance_here() as instance:
        try:
            record, secret = instance.create_api_token(name, read_only=read_only)
        except (StorageError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    rights = "read-only" if record.read_only else "full"
    console(stderr=True).print(
        f"Token [bold]{record.name}[/] ({rights}) created. It is not stored and cannot be shown "
        "again: keep it now. Use it as 'Authorization: Bearer TOKEN', or log in with it in the UI."
    )
    click.echo(secret)


@token.command("list")
def list_tokens() -> None:
    """List the tokens by name, with their rights (never the tokens themselves)."""
    with open_instance_here() as instance:
        records = instance.get_api_tokens()
    out = console()
    if not records:
        out.print("No tokens. Create one with: bh token create NAME")
        return
    for record in records:
        rights = "read-only" if record.read_only else "full"
        out.print(f"{record.name}\t{rights}\tcreated {format_time(record.created_at)}")


@token.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the token called NAME: requests carrying it are refused from now on."""
    with open_instance_here() as instance:
        if not instance.revoke_api_token(name):
            raise click.ClickException(f"no token named '{name}' (see bh token list)")
    console().print(f"Token [bold]{name}[/] revoked.")
