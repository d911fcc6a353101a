"""`amanat referral keygen` and `amanat referral decrypt`: the partner's side of a referral or export.

A partner organisation runs these on its own machine; they need no database and no organisation keys.
``keygen`` makes an X25519 key pair: the public key (``amanat-pk1:…``) goes to the office's admin, who
registers it; the private key stays in a file only the partner can read. ``decrypt`` opens a referral
packet or an export (``*.amanat``) with that private key, or with the passphrase it was sealed with.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from amanat.cli.base import console, friendly, write_key_pair
from amanat.core import crypto
from amanat.errors import InvalidInput

referral_app = typer.Typer(help="A partner's keys, and opening referral packets and exports.", no_args_is_help=True)


@referral_app.command("keygen")
@friendly
def keygen(private_key: Annotated[Path, typer.Option("--private-key", help="Where to write the private key "
                                                                           "(created with mode 600; never shared).")],
           force: Annotated[bool, typer.Option(help="Overwrite an existing private key file.")] = False) -> None:
    """Make a key pair: prints the public key for the office to register, writes the private key to a file."""
    public = write_key_pair(private_key, force=force)
    typer.echo(public)
    console.print(f"fingerprint: {crypto.key_fingerprint(crypto.parse_public_key(public))} — read it to the office "
                  "when they register your key")


@referral_app.command("decrypt")
@friendly
def decrypt(packet: Annotated[Path, typer.Argument(help="The .amanat file: a referral packet or an export.")],  # nosec B107
            key: Annotated[Path | None, typer.Option("--key", help="Your private key file (from keygen).")] = None,
            output: Annotated[Path | None, typer.Option("--output", "-o",
                                                        help="Write here; default: standard output.")] = None,
            passphrase_env: Annotated[str, typer.Option(help="For a file sealed with a passphrase: the environment "
                                                            "variable holding it.")] = "AMANAT_EXPORT_PASSPHRASE",  # noqa: S107 - a name
            ) -> None:
    """Open a referral packet (JSON) or an export (CSV, XLSX, PDF) sealed to your key or a passphrase."""
    try:
        blob = packet.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {packet.name}: {exc.strerror}.", code="file_unreadable") from None
    secret = None
    if key is not None:
        try:
            secret = key.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise InvalidInput(f"cannot read the private key file {key.name}.", code="key_unreadable") from None
    passphrase = os.environ.get(passphrase_env) or None
    if secret is None and passphrase is None and sys.stdin.isatty():
        passphrase = typer.prompt("Passphrase", hide_input=True)
    opened = crypto.open_envelope(blob, secret_key=secret, passphrase=passphrase)
    if output is None:
        sys.stdout.buffer.write(opened.plaintext)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(opened.plaintext)
        console.print(f"wrote {output} ({opened.content}, {len(opened.plaintext)} bytes)")
