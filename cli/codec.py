"""`dibao codec`: keys of the Temporal payload encryption (dibao.codec)."""

from __future__ import annotations

import typer

from dibao.codec import new_key

codec_app = typer.Typer(no_args_is_help=True)


@codec_app.command("new-key")
def codec_new_key() -> None:
    """Print a fresh `id:key` for DIBAO_CODEC_KEYS.

    To rotate, put it first (it encrypts from then on) and keep the old keys after it until no
    history still needs them.
    """
    typer.echo(new_key())
