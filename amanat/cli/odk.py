"""`amanat odk …`: tools for ODK encrypted submissions (an operator's way to open one by hand).

`decrypt` writes the submission XML to standard output and the media files into a folder; those files
are personal data in clear, so it refuses to overwrite anything and says where it wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from amanat.cli.base import friendly
from amanat.errors import AmanatError
from amanat.intake.errors import IntakeError
from amanat.intake.odk_crypto import Manifest, decrypt_submission, parse_manifest

odk_app = typer.Typer(help="ODK encrypted submissions.", no_args_is_help=True)

_MAX_MANIFEST = 1 << 20


def _find_manifest(folder: Path, name: str | None) -> tuple[Path, Manifest]:
    candidates = [folder / name] if name else sorted(p for p in folder.glob("*.xml") if p.is_file())
    found: list[tuple[Path, Manifest]] = []
    for path in candidates:
        if not path.is_file() or path.stat().st_size > _MAX_MANIFEST:
            continue
        try:
            found.append((path, parse_manifest(path.read_bytes())))
        except IntakeError:
            if name:
                raise
    if not found:
        raise IntakeError("no encrypted-submission manifest (an .xml with encrypted=\"yes\") in the folder",
                          source=folder.name)
    if len(found) > 1:
        raise IntakeError("several manifests in the folder; name one with --manifest", source=folder.name)
    return found[0]


def _fail(exc: AmanatError) -> typer.Exit:
    typer.echo(f"error: {exc.public_message} ({exc.code})", err=True)
    return typer.Exit(1)


@odk_app.command()
@friendly
def decrypt(
    folder: Annotated[Path, typer.Argument(help="Folder holding the manifest XML and its .enc files.",
                                           exists=True, file_okay=False, dir_okay=True)],
    key: Annotated[Path, typer.Option("--key", help="The organisation's RSA private key (PEM).",
                                      exists=True, dir_okay=False)],
    out: Annotated[Path | None, typer.Option(help="Where to write the media files (default: the folder).",
                                             file_okay=False)] = None,
    manifest: Annotated[str | None, typer.Option(help="Manifest file name, if the folder holds several.")] = None,
    ask_password: Annotated[bool, typer.Option("--ask-password", help="Prompt for the key's password.")] = False,
    strict: Annotated[bool, typer.Option(help="Fail when the files do not match the signature.")] = False,
    force: Annotated[bool, typer.Option(help="Overwrite media files that already exist.")] = False,
) -> None:
    """Decrypt one submission: XML to standard output, media files beside it (or into --out)."""
    try:
        manifest_path, parsed = _find_manifest(folder, manifest)
        files: dict[str, bytes] = {}
        for name in [*parsed.media, parsed.encrypted_xml_file]:
            path = folder / Path(name).name  # the manifest's names, never a path it makes up
            if not path.is_file():
                raise IntakeError("file named in the manifest is missing", source=Path(name).name)
            files[name] = path.read_bytes()
        password = typer.prompt("Key password", hide_input=True).encode() if ask_password else None
        result = decrypt_submission(parsed, files, key.read_bytes(), password=password, strict=strict)
        target = out or folder
        target.mkdir(parents=True, exist_ok=True)
        clashes = [n for n in result.media if (target / Path(n).name).exists()]
        if clashes and not force:
            raise IntakeError(f"{len(clashes)} media file(s) already exist in the output folder; use --force",
                              source=target.name)
        for name, data in result.media.items():
            (target / Path(name).name).write_bytes(data)
    except AmanatError as exc:
        raise _fail(exc) from None
    sys.stdout.flush()
    sys.stdout.buffer.write(result.xml)  # bytes as decrypted: the XML declares its own encoding
    sys.stdout.buffer.flush()
    status = {True: "valid", False: "DOES NOT MATCH", None: "absent"}[result.signature_valid]
    typer.echo(f"{manifest_path.name}: {len(result.media)} media file(s) written to {target}; "
               f"signature {status}", err=True)
