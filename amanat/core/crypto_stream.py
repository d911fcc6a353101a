"""The streamed envelope: crypto.py's envelope for files too large to hold in memory (backups).

Kept beside crypto.py, not in it, so neither passes 600 lines; like crypto.py it is the only code that sees
its keys, and it touches no organisation key. A file is sealed to a recipient's X25519 public key (the
backup key, whose private half is kept offline) or to a passphrase:

    AMANAT-STREAM-1\\n
    {header: kind, content, chunk size, the data key wrapped to the recipient or the passphrase}\\n
    [4-byte length | AES-256-GCM chunk] ...

A fresh 32-byte data key per file encrypts fixed-size chunks (the STREAM construction): chunk i's nonce is
i as 11 bytes and a last-chunk flag byte, and every chunk authenticates the header. So a chunk cannot be
changed, dropped, reordered or moved to another file, and a file cut short is told from a whole one (its
last chunk never came). The last chunk carries the writer's *trailer* (a backup's manifest, known only at
the end). Plaintext exists only in memory, one chunk at a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from amanat.core.crypto import (
    MIN_EXPORT_PASSPHRASE,
    SECRET_KEY_PREFIX,
    KdfParams,
    _kek,
    _key_bytes,
    key_fingerprint,
)
from amanat.errors import CryptoError

STREAM_MAGIC = b"AMANAT-STREAM-1\n"
CHUNK = 1024 * 1024
_MAX_CHUNK = 16 * 1024 * 1024  # what a reader accepts from a header: a hostile file allocates no more
_MAX_HEADER = 64 * 1024
_LAST = 0x80000000  # top bit of a chunk's length: the last chunk (also bound into its nonce)
_WRAP_AAD = b"amanat-stream-key"


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _broken(message: str, code: str = "stream_tampered") -> CryptoError:
    return CryptoError(message, code=code, status=422)


class StreamSealer:
    """Writes a streamed envelope to ``out``: ``write`` as often as needed, then ``finish(trailer)``."""

    def __init__(self, out: BinaryIO, *, content: str, public_key: bytes | None = None,
                 passphrase: str | None = None, chunk: int = CHUNK, time_cost: int = 3,
                 memory_kib: int = 65536) -> None:
        if (public_key is None) == (passphrase is None):
            raise ValueError("seal to a public key or to a passphrase, exactly one")
        key = os.urandom(32)
        header: dict[str, object] = {"content": content, "chunk": chunk}
        if public_key is not None:
            header.update(kind="x25519-sealedbox", recipient=key_fingerprint(public_key),
                          wrapped_key=base64.b64encode(SealedBox(PublicKey(public_key)).encrypt(key)).decode())
        else:
            assert passphrase is not None
            if len(passphrase) < MIN_EXPORT_PASSPHRASE:
                raise CryptoError(f"passphrase: at least {MIN_EXPORT_PASSPHRASE} characters.",
                                  code="passphrase_short", status=422)
            kdf = KdfParams(salt=os.urandom(16), time_cost=time_cost, memory_kib=memory_kib)
            nonce = os.urandom(12)
            wrapped = nonce + AESGCM(_kek(passphrase, kdf)).encrypt(nonce, key, _WRAP_AAD)
            header.update(kind="argon2id-aes256gcm", kdf=kdf.to_dict(), wrapped_key=base64.b64encode(wrapped).decode())
        head = STREAM_MAGIC + json.dumps(header, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        self._aad = hashlib.sha256(head).digest()
        self._aead = AESGCM(key)
        self._out = out
        self._chunk = chunk
        self._buffer = bytearray()
        self._index = 0
        self._done = False
        self.written = len(head)  # bytes of the file so far
        out.write(head)

    def _emit(self, plaintext: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, last), plaintext, self._aad)
        self._out.write(struct.pack(">I", len(sealed) | (_LAST if last else 0)) + sealed)
        self._index += 1
        self.written += 4 + len(sealed)

    def write(self, data: bytes | memoryview) -> None:
        if self._done:
            raise ValueError("the stream is finished")
        self._buffer += data
        while len(self._buffer) >= self._chunk:
            self._emit(bytes(self._buffer[:self._chunk]), last=False)
            del self._buffer[:self._chunk]

    def finish(self, trailer: bytes) -> None:
        """The data left in the buffer, then ``trailer`` as the last chunk (a chunk may hold any size here)."""
        if self._buffer:
            self._emit(bytes(self._buffer), last=False)
            self._buffer.clear()
        self._emit(trailer, last=True)
        self._done = True
        self._out.flush()


def _read_exact(inp: BinaryIO, n: int) -> bytes:
    data = inp.read(n)
    return data if data is not None else b""


class StreamOpener:
    """Reads a streamed envelope: ``chunks()`` yields the plaintext, then ``trailer`` holds the last chunk.

    The key is checked when the opener is made (a wrong key or passphrase fails at once, before any data);
    every chunk is authenticated before it is yielded, so nothing unauthenticated ever reaches the caller."""

    def __init__(self, inp: BinaryIO, *, secret_key: str | None = None, passphrase: str | None = None) -> None:
        if _read_exact(inp, len(STREAM_MAGIC)) != STREAM_MAGIC:
            raise _broken("This is not an Amanat backup (its first line does not match).", "stream_format")
        line = inp.readline(_MAX_HEADER)
        if not line.endswith(b"\n"):
            raise _broken("The backup's header is cut off or too long.", "stream_format")
        try:
            header = json.loads(line)
            self.content = str(header["content"])
            self.kind = str(header["kind"])
            self.chunk = int(header["chunk"])
            wrapped = base64.b64decode(str(header["wrapped_key"]), validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise _broken("The backup's header cannot be read.", "stream_format") from exc
        if not 0 < self.chunk <= _MAX_CHUNK:
            raise _broken("The backup's header names an impossible chunk size.", "stream_format")
        self.recipient = str(header.get("recipient", ""))
        self._aad = hashlib.sha256(STREAM_MAGIC + line).digest()
        self._aead = AESGCM(self._data_key(header, wrapped, secret_key, passphrase))
        self._inp = inp
        self.trailer: bytes | None = None

    def _data_key(self, header: dict[str, object], wrapped: bytes, secret_key: str | None,
                  passphrase: str | None) -> bytes:
        if self.kind == "x25519-sealedbox":
            if not secret_key:
                raise CryptoError("This backup is sealed to a backup key: give its private key file (--key).",
                                  code="key_needed", status=422)
            private = PrivateKey(_key_bytes(secret_key, SECRET_KEY_PREFIX, "private key"))
            given = key_fingerprint(bytes(private.public_key))
            if self.recipient and given != self.recipient:
                raise CryptoError(f"Wrong key: this backup is sealed to the backup key {self.recipient}, the key "
                                  f"file given is {given}.", code="stream_wrong_key", status=422)
            try:
                return SealedBox(private).decrypt(wrapped)
            except NaclCryptoError as exc:
                raise CryptoError("The backup did not open with this key (another key, or the file was changed).",
                                  code="stream_wrong_key", status=422) from exc
        if self.kind == "argon2id-aes256gcm":
            if not passphrase:
                raise CryptoError("This backup is sealed with a passphrase: give it.", code="passphrase_needed",
                                  status=422)
            try:
                kdf = KdfParams.from_dict(header["kdf"])  # type: ignore[arg-type]
            except (ValueError, KeyError, TypeError) as exc:
                raise _broken("The backup's header cannot be read.", "stream_format") from exc
            try:
                return AESGCM(_kek(passphrase, kdf)).decrypt(wrapped[:12], wrapped[12:], _WRAP_AAD)
            except InvalidTag as exc:
                raise CryptoError("Wrong passphrase, or the backup's header was changed.",
                                  code="stream_wrong_passphrase", status=422) from exc
        raise _broken("The backup's header names an unknown kind of key.", "stream_format")

    def chunks(self) -> Iterator[bytes]:
        index = 0
        while True:
            prefix = _read_exact(self._inp, 4)
            if len(prefix) < 4:
                raise _broken("The backup is cut off: its last part is missing.", "stream_truncated")
            (raw,) = struct.unpack(">I", prefix)
            last, size = bool(raw & _LAST), raw & ~_LAST
            if (size > self.chunk + 16 and not last) or size > _MAX_CHUNK + 16:
                raise _broken("The backup is damaged: a part is longer than the header allows.")
            sealed = _read_exact(self._inp, size)
            if len(sealed) < size:
                raise _broken("The backup is cut off: its last part is missing.", "stream_truncated")
            try:
                plain = self._aead.decrypt(_nonce(index, last), sealed, self._aad)
            except InvalidTag as exc:
                raise _broken(f"The backup was changed or damaged: part {index + 1} fails authentication.") from exc
            index += 1
            if last:
                if _read_exact(self._inp, 1):
                    raise _broken("The backup has data after its last part.")
                self.trailer = plain
                return
            yield plain


__all__ = ["CHUNK", "STREAM_MAGIC", "StreamOpener", "StreamSealer"]
