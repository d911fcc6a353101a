"""The streamed envelope backups are sealed in (core/crypto_stream.py), and the manifest checks of a backup.

Every way a file can be changed without the key — a chunk altered, two swapped, one dropped, the file cut at a
chunk boundary, bytes added after the end, a chunk's last-flag flipped, the header edited — is refused before
any of its plaintext is used; another key and a wrong passphrase are named. A backup re-sealed by someone who
holds only the public key (the server does) with a manifest that does not match its dump is refused too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import stat
import struct
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from amanat.core import backup as core_backup
from amanat.core import crypto
from amanat.core.backup import Manifest, OpenWith, verify_backup
from amanat.core.crypto_stream import STREAM_MAGIC, StreamOpener, StreamSealer
from amanat.errors import AmanatError, CryptoError

DATA = bytes(range(256)) * 40  # 10,240 bytes: 10 chunks of 1,000 and a short one


def seal(data: bytes = DATA, trailer: bytes = b"the manifest", chunk: int = 1000) -> tuple[bytes, str]:
    public, secret = crypto.generate_recipient_keypair()
    out = io.BytesIO()
    sealer = StreamSealer(out, content="test", public_key=crypto.parse_public_key(public), chunk=chunk)
    for start in range(0, len(data), 333):  # writes of any size make whole chunks
        sealer.write(data[start:start + 333])
    sealer.finish(trailer)
    return out.getvalue(), secret


def read(blob: bytes, secret: str | None = None, passphrase: str | None = None) -> tuple[bytes, bytes | None]:
    opener = StreamOpener(io.BytesIO(blob), secret_key=secret, passphrase=passphrase)
    plain = b"".join(opener.chunks())
    return plain, opener.trailer


def parts(blob: bytes) -> tuple[bytes, list[bytes]]:
    """The header (through its newline) and each chunk with its length prefix."""
    end = blob.index(b"\n", len(STREAM_MAGIC)) + 1
    head, rest, chunks = blob[:end], blob[end:], []
    while rest:
        size = struct.unpack(">I", rest[:4])[0] & 0x7FFFFFFF
        chunks.append(rest[:4 + size])
        rest = rest[4 + size:]
    return head, chunks


def refused(blob: bytes, secret: str, code: str) -> str:
    with pytest.raises(CryptoError) as err:
        read(blob, secret)
    assert err.value.code == code, err.value.public_message
    return err.value.public_message


def test_round_trip_in_chunks_with_the_trailer_last() -> None:
    blob, secret = seal()
    assert DATA[:64] not in blob
    _, chunks = parts(blob)
    assert len(chunks) == 12  # 10 whole, 1 short, the trailer
    assert read(blob, secret) == (DATA, b"the manifest")


def test_a_passphrase_stream_round_trips_and_a_wrong_one_is_named() -> None:
    out = io.BytesIO()
    sealer = StreamSealer(out, content="test", passphrase="a long backup passphrase", time_cost=1, memory_kib=64)
    sealer.write(DATA)
    sealer.finish(b"m")
    assert read(out.getvalue(), passphrase="a long backup passphrase") == (DATA, b"m")
    with pytest.raises(CryptoError) as err:
        read(out.getvalue(), passphrase="another long passphrase")
    assert err.value.code == "stream_wrong_passphrase"
    with pytest.raises(CryptoError) as short:
        StreamSealer(io.BytesIO(), content="test", passphrase="short")
    assert short.value.code == "passphrase_short"


def test_every_change_without_the_key_is_refused() -> None:
    blob, secret = seal()
    head, chunks = parts(blob)
    altered = bytearray(blob)
    altered[len(head) + 4 + 10] ^= 1
    assert "part 1 fails authentication" in refused(bytes(altered), secret, "stream_tampered")
    swapped = head + chunks[1] + chunks[0] + b"".join(chunks[2:])
    refused(swapped, secret, "stream_tampered")
    dropped = head + chunks[0] + b"".join(chunks[2:])
    refused(dropped, secret, "stream_tampered")
    assert "cut off" in refused(head + b"".join(chunks[:-1]), secret, "stream_truncated")
    assert "cut off" in refused(blob[:-5], secret, "stream_truncated")
    assert "after its last part" in refused(blob + b"x", secret, "stream_tampered")
    # A middle chunk claiming to be the last (the flag is bound into its nonce) does not authenticate.
    flagged = bytearray(chunks[3])
    flagged[0] |= 0x80
    refused(head + b"".join(chunks[:3]) + bytes(flagged), secret, "stream_tampered")
    # The header is authenticated by every chunk: an edit (another chunk size) fails at the first one.
    edited = head.replace(b'"chunk":1000', b'"chunk":1001')
    assert edited != head
    refused(edited + b"".join(chunks), secret, "stream_tampered")


def test_another_key_is_named_by_its_fingerprint() -> None:
    blob, _ = seal()
    _, other = crypto.generate_recipient_keypair()
    message = refused(blob, other, "stream_wrong_key")
    assert message.startswith("Wrong key: this backup is sealed to the backup key ")
    # With the header's fingerprint forged to match, the wrapped data key still does not open.
    head, chunks = parts(blob)
    header = json.loads(head[len(STREAM_MAGIC):])
    other_public = PrivateKey(base64.b64decode(other.removeprefix(crypto.SECRET_KEY_PREFIX))).public_key
    header["recipient"] = crypto.key_fingerprint(bytes(other_public))
    forged = STREAM_MAGIC + json.dumps(header, separators=(",", ":"), sort_keys=True).encode() + b"\n"
    refused(forged + b"".join(chunks), other, "stream_wrong_key")


def test_not_a_stream_and_impossible_headers_are_refused() -> None:
    _, secret = seal()
    refused(b"PK\x03\x04 a zip", secret, "stream_format")
    refused(STREAM_MAGIC + b'{"chunk": 999999999999, "content": "x", "kind": "x", "wrapped_key": ""}\n', secret,
            "stream_format")
    refused(STREAM_MAGIC + b"not json\n", secret, "stream_format")


def test_a_manifest_that_does_not_match_its_dump_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Anyone with the public key can seal; the manifest's hash ties the dump to what the maker measured.
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE alembic_version (version_num TEXT)")
    image = con.serialize()
    public, secret = crypto.generate_recipient_keypair()

    def backup(manifest_sha: str, size: int) -> Path:
        path = tmp_path / f"{manifest_sha[:6]}.backup"
        with path.open("wb") as fh:
            sealer = StreamSealer(fh, content="amanat-backup", public_key=crypto.parse_public_key(public))
            sealer.write(image)
            sealer.finish(Manifest(1, "b-1", "sqlite", None, "2026-01-01T00:00:00", 0, "0" * 64, manifest_sha,
                                   size).to_bytes())
        return path

    good = backup(hashlib.sha256(image).hexdigest(), len(image))
    work = tmp_path / "work"
    work.mkdir()
    modes: list[tuple[int, int]] = []
    check = core_backup._sqlite_problem

    def checked(path: Path) -> str | None:  # the decrypted copy, while it exists: 0600 in a 0700 folder
        modes.append((stat.S_IMODE(path.stat().st_mode), stat.S_IMODE(path.parent.stat().st_mode)))
        return check(path)

    monkeypatch.setattr(core_backup, "_sqlite_problem", checked)
    assert verify_backup(good, OpenWith(secret_key=secret), workdir=work).backup_id == "b-1"
    assert modes == [(0o600, 0o700)]
    with pytest.raises(AmanatError) as err:
        verify_backup(backup("f" * 64, len(image)), OpenWith(secret_key=secret), workdir=work)
    assert err.value.code == "backup_hash_mismatch"
    assert not list(work.iterdir())  # the decrypted copy and its private folder are gone
