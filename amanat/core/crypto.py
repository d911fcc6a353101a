"""The only module that touches keys.

Keys of an organisation:
- ``seal``: an X25519 key pair. Intake holds only the public half and seals each submission to it
  (libsodium sealed box); only the worker, with the private half, can open it.
- ``field``: AES-256-GCM data keys for field-level encryption at rest. Each ciphertext names its key
  id, so keys can rotate while old data stays readable.
- ``index``: the HMAC key for blind indexes (exact lookup of normalised values without decrypting).
- ``odk``: an RSA key pair whose public half goes into encrypted ODK forms.

Below the organisation's keys sit per-record *data keys* (envelope encryption): each record's values are
encrypted under a key of its own (id ``rk:<record id>``), stored wrapped by the active field key. Erasing a
record destroys its wrapped data key, so every copy of its ciphertext (WAL, backups) stays unreadable by
any key the organisation holds; rotating the field key rewraps data keys, not records.

Every private key is wrapped with a key-encryption key derived from the organisation's passphrase
with argon2id. Nothing outside this module ever sees key bytes: other modules hold a ``KeyHolder``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from amanat.errors import CryptoError

FIELD_FORMAT = 1
DATA_KEY_PREFIX = "rk:"  # a record's data key: ``rk:<record id>``
# Where a holder finds wrapped data keys it has not seen: (after sequence number, ids wanted) -> rows of
# (sequence, key id, wrapped) with a sequence above it or an id wanted (core/keystore.fetch_data_keys).
DataKeySource = Callable[[int, Sequence[str]], Sequence[tuple[int, str, bytes]]]
_CHECK_PLAINTEXT = b"amanat keystore check v1"


@dataclass(frozen=True)
class KdfParams:
    salt: bytes
    time_cost: int
    memory_kib: int
    parallelism: int = 1

    def to_dict(self) -> dict[str, object]:
        return {"salt": base64.b64encode(self.salt).decode(), "time_cost": self.time_cost,
                "memory_kib": self.memory_kib, "parallelism": self.parallelism, "algorithm": "argon2id"}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> KdfParams:
        return cls(salt=base64.b64decode(str(d["salt"])), time_cost=int(str(d["time_cost"])),
                   memory_kib=int(str(d["memory_kib"])), parallelism=int(str(d.get("parallelism", 1))))


@dataclass(frozen=True)
class StoredKey:
    """What the keystore table holds for one key: public half in clear, private half wrapped."""

    key_id: str
    purpose: str  # seal | field | index | odk
    public: bytes | None
    wrapped: bytes | None
    active: bool = True


@dataclass(frozen=True)
class Keystore:
    kdf: KdfParams
    check: bytes  # AES-GCM of a constant under the KEK: tells a wrong passphrase from corrupt keys
    keys: tuple[StoredKey, ...]


def _kek(passphrase: str, kdf: KdfParams) -> bytes:
    if not passphrase:
        raise CryptoError("The passphrase is empty.", code="passphrase_empty")
    return hash_secret_raw(passphrase.encode("utf-8"), kdf.salt, time_cost=kdf.time_cost,
                           memory_cost=kdf.memory_kib, parallelism=kdf.parallelism, hash_len=32,
                           type=Type.ID)


def _wrap(kek: bytes, purpose: str, key_id: str, secret: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(kek).encrypt(nonce, secret, f"wrap:{purpose}:{key_id}".encode())


def _unwrap(kek: bytes, key: StoredKey) -> bytes:
    assert key.wrapped is not None
    try:
        return AESGCM(kek).decrypt(key.wrapped[:12], key.wrapped[12:], f"wrap:{key.purpose}:{key.key_id}".encode())
    except InvalidTag as exc:
        raise CryptoError(f"Key {key.key_id} failed authentication: the keystore is corrupt.",
                          code="keystore_corrupt") from exc


def _new_key(kek: bytes, purpose: str, key_id: str) -> StoredKey:
    if purpose == "seal":
        sk = PrivateKey.generate()
        return StoredKey(key_id, purpose, bytes(sk.public_key), _wrap(kek, purpose, key_id, bytes(sk)))
    if purpose in ("field", "index"):
        return StoredKey(key_id, purpose, None, _wrap(kek, purpose, key_id, os.urandom(32)))
    if purpose == "odk":
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pub = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        der = rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return StoredKey(key_id, purpose, pub, _wrap(kek, purpose, key_id, der))
    raise ValueError(f"unknown key purpose {purpose}")


def create_keystore(passphrase: str, *, time_cost: int = 3, memory_kib: int = 65536) -> Keystore:
    kdf = KdfParams(salt=os.urandom(16), time_cost=time_cost, memory_kib=memory_kib)
    kek = _kek(passphrase, kdf)
    nonce = os.urandom(12)
    check = nonce + AESGCM(kek).encrypt(nonce, _CHECK_PLAINTEXT, b"check")
    keys = tuple(_new_key(kek, p, f"{p}-1") for p in ("seal", "field", "index", "odk"))
    return Keystore(kdf, check, keys)


def _verify_passphrase(keystore: Keystore, passphrase: str) -> bytes:
    kek = _kek(passphrase, keystore.kdf)
    try:
        AESGCM(kek).decrypt(keystore.check[:12], keystore.check[12:], b"check")
    except InvalidTag as exc:
        raise CryptoError("Wrong passphrase: the organisation's keys stay locked.",
                          code="wrong_passphrase", status=401) from exc
    return kek


def rotate_field_key(keystore: Keystore, passphrase: str) -> tuple[StoredKey, tuple[StoredKey, ...]]:
    """A new active field key; the old ones stay for reading. Returns (new key, keys to deactivate)."""
    kek = _verify_passphrase(keystore, passphrase)
    field_keys = [k for k in keystore.keys if k.purpose == "field"]
    n = max(int(k.key_id.rsplit("-", 1)[1]) for k in field_keys) + 1
    new = _new_key(kek, "field", f"field-{n}")
    retired = tuple(StoredKey(k.key_id, k.purpose, k.public, k.wrapped, False) for k in field_keys if k.active)
    return new, retired


@dataclass
class KeyRing:
    """Unlocked keys. Lives in memory only, inside a KeyHolder."""

    seal_public: bytes
    seal_private: bytes | None
    field_keys: dict[str, bytes]
    active_field_key: str
    index_key: bytes
    odk_public_der: bytes
    odk_private_der: bytes | None
    # The key-encryption key, kept (in memory only) so the ring can take in keys rotated by another process
    # without asking for the passphrase again; and which stored keys the ring was built from.
    kek: bytes | None = field(default=None, repr=False)
    version: tuple[tuple[str, bool], ...] = ()


def keystore_version(keystore: Keystore) -> tuple[tuple[str, bool], ...]:
    return tuple(sorted((k.key_id, k.active) for k in keystore.keys))


def unlock(keystore: Keystore, passphrase: str) -> KeyRing:
    return _unlock_with(keystore, _verify_passphrase(keystore, passphrase))


def _unlock_with(keystore: Keystore, kek: bytes) -> KeyRing:
    field_keys: dict[str, bytes] = {}
    active = ""
    seal_pub = seal_priv = index_key = odk_pub = odk_priv = None
    for k in keystore.keys:
        secret = _unwrap(kek, k)
        if k.purpose == "seal" and k.active:
            seal_pub, seal_priv = k.public, secret
        elif k.purpose == "field":
            field_keys[k.key_id] = secret
            if k.active:
                active = k.key_id
        elif k.purpose == "index" and k.active:
            index_key = secret
        elif k.purpose == "odk" and k.active:
            odk_pub, odk_priv = k.public, secret
    if not (seal_pub and seal_priv and active and index_key and odk_pub and odk_priv):
        raise CryptoError("The keystore is incomplete.", code="keystore_incomplete")
    return KeyRing(seal_pub, seal_priv, field_keys, active, index_key, odk_pub, odk_priv, kek,
                   keystore_version(keystore))


def public_ring(keystore: Keystore | Sequence[StoredKey]) -> KeyRing:
    """Public halves only: enough to seal intake, nothing else (from a keystore, or its public keys alone)."""
    keys = keystore.keys if isinstance(keystore, Keystore) else keystore
    seal = next(k for k in keys if k.purpose == "seal" and k.active)
    odk = next(k for k in keys if k.purpose == "odk" and k.active)
    assert seal.public is not None and odk.public is not None
    return KeyRing(seal.public, None, {}, "", b"", odk.public, None)


@dataclass
class KeyHolder:
    """The handle the rest of the program holds. It can be locked (public only) or unlocked."""

    _ring: KeyRing | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Unwrapped data keys (memory only), where to find more, the highest sequence number read from there,
    # and the keys this process destroyed (never read back from a transaction that has not committed yet).
    _data_keys: dict[str, bytes] = field(default_factory=dict, repr=False)
    _data_key_source: DataKeySource | None = field(default=None, repr=False)
    _data_keys_seen: int = 0
    _data_keys_gone: set[str] = field(default_factory=set, repr=False)
    # The box that opens sealed submissions, for the ring's private key it was made from: building it
    # (the Curve25519 key) was about half of opening one submission (75 µs against 42 µs).
    _unseal: tuple[bytes, SealedBox] | None = field(default=None, repr=False)

    def set(self, ring: KeyRing | None) -> None:
        with self._lock:
            self._ring = ring
            self._unseal = None
            self._data_keys.clear()
            self._data_keys_seen = 0

    def refresh(self, keystore: Keystore) -> bool:
        """Take in keys another process stored (``amanat keys rotate``): an unlocked ring is rebuilt with
        the key-encryption key it kept, when the stored keys differ from the ones it was built from.
        Returns whether it changed. A public-only ring stays as it is."""
        ring = self._ring
        if ring is None or ring.kek is None or ring.version == keystore_version(keystore):
            return False
        try:
            fresh = _unlock_with(keystore, ring.kek)
        except CryptoError:  # wrapped under another passphrase now: keep serving with the keys we hold
            return False
        with self._lock:
            self._ring = fresh
        return True

    @property
    def loaded(self) -> bool:
        return self._ring is not None

    @property
    def unlocked(self) -> bool:
        return self._ring is not None and self._ring.seal_private is not None

    def _private(self) -> KeyRing:
        ring = self._ring
        if ring is None or ring.seal_private is None:
            raise CryptoError("The organisation's keys are locked on this node.", code="keys_locked", status=503)
        return ring

    def _public(self) -> KeyRing:
        if self._ring is None:
            raise CryptoError("No organisation keys are loaded: run `amanat init` first.",
                              code="keys_missing", status=503)
        return self._ring

    # --- sealing (intake) ---
    def seal(self, plaintext: bytes) -> bytes:
        return SealedBox(PublicKey(self._public().seal_public)).encrypt(plaintext)

    def open_sealed(self, blob: bytes) -> bytes:
        ring = self._private()
        assert ring.seal_private is not None
        cached = self._unseal
        if cached is None or cached[0] is not ring.seal_private:  # another ring (rotated, reloaded): its own box
            cached = self._unseal = (ring.seal_private, SealedBox(PrivateKey(ring.seal_private)))
        try:
            return cached[1].decrypt(blob)
        except NaclCryptoError as exc:
            raise CryptoError("A sealed submission failed authentication (tampered or sealed to another key).",
                              code="seal_tampered", status=422) from exc

    # --- field encryption at rest ---
    def encrypt_field(self, context: str, plaintext: bytes, *, data_key: str | None = None) -> bytes:
        """Under the active field key, or under the record's data key ``data_key`` (``rk:<record id>``)."""
        ring = self._private()
        if data_key is None:
            key_id, key = ring.active_field_key, ring.field_keys[ring.active_field_key]
        else:
            key_id, key = data_key, self._data_key(data_key, context)
        header = bytes([FIELD_FORMAT, len(key_id)]) + key_id.encode()
        nonce = os.urandom(12)
        return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + context.encode())

    def decrypt_field(self, context: str, blob: bytes) -> bytes:
        ring = self._private()
        if len(blob) < 2 or blob[0] != FIELD_FORMAT:
            raise CryptoError(f"Encrypted value in {context} has an unknown format.", code="field_format")
        n = blob[1]
        header, key_id = blob[: 2 + n], blob[2: 2 + n].decode("ascii", "replace")
        key = ring.field_keys.get(key_id)
        if key is None and key_id.startswith(DATA_KEY_PREFIX):
            key = self._data_key(key_id, context)
        if key is None:
            raise CryptoError(f"Encrypted value in {context} names an unknown key.", code="field_key_unknown")
        nonce = blob[2 + n: 14 + n]
        try:
            return AESGCM(key).decrypt(nonce, blob[14 + n:], header + context.encode())
        except InvalidTag as exc:
            raise CryptoError(f"Encrypted value in {context} failed authentication.",
                              code="field_tampered") from exc

    def field_key_id(self, blob: bytes) -> str:
        return blob[2: 2 + blob[1]].decode("ascii", "replace") if len(blob) > 2 else ""

    @property
    def active_field_key_id(self) -> str:
        return self._private().active_field_key

    # --- per-record data keys (envelope encryption) ---
    def set_data_key_source(self, source: DataKeySource | None) -> None:
        self._data_key_source = source

    def new_data_keys(self, key_ids: Sequence[str]) -> list[bytes]:
        """A fresh data key for each id, returned wrapped by the active field key (what the store keeps), in
        order; the unwrapped keys stay in this holder's memory for the transaction that stores them."""
        ring = self._private()
        fresh = {k: os.urandom(32) for k in key_ids}
        wrapped = [self.encrypt_field(f"wrap:data:{k}", fresh[k]) for k in key_ids]
        with self._lock:
            if self._ring is ring:
                self._data_keys.update(fresh)
        return wrapped

    def rewrap_data_key(self, key_id: str, wrapped: bytes) -> bytes | None:
        """``wrapped`` under the active field key, or None when it already is (key rotation rewraps only these)."""
        if self.field_key_id(wrapped) == self.active_field_key_id:
            return None
        return self.encrypt_field(f"wrap:data:{key_id}", self.decrypt_field(f"wrap:data:{key_id}", wrapped))

    def known_data_keys(self, key_ids: Iterable[str]) -> set[str]:
        """Which of ``key_ids`` exist (in memory, else in the store: one look for all that are not)."""
        ids = set(key_ids)
        missing = [k for k in ids if k not in self._data_keys and k not in self._data_keys_gone]
        if missing:
            self._load_data_keys(missing)
        return {k for k in ids if k in self._data_keys}

    def forget_data_keys(self, key_ids: Iterable[str]) -> None:
        """Erasure: drop these keys from memory and never load them again in this process."""
        with self._lock:
            for k in key_ids:
                self._data_keys.pop(k, None)
                self._data_keys_gone.add(k)

    def _data_key(self, key_id: str, context: str) -> bytes:
        key = self._data_keys.get(key_id)
        if key is None and key_id not in self._data_keys_gone:
            self._load_data_keys([key_id])
            key = self._data_keys.get(key_id)
        if key is None:
            raise CryptoError(f"Encrypted value in {context} names a data key that no longer exists (erased).",
                              code="data_key_erased")
        return key

    def _load_data_keys(self, wanted: Sequence[str]) -> None:
        # Everything stored since the last look comes in one query (a fresh process reads them all once),
        # and the wanted ids by name (on PostgreSQL a lower sequence number can commit later).
        source = self._data_key_source
        if source is None:
            return
        with self._lock:
            rows = source(self._data_keys_seen, list(wanted))
            for seq, key_id, wrapped in rows:
                if key_id not in self._data_keys_gone:
                    self._data_keys[key_id] = self.decrypt_field(f"wrap:data:{key_id}", bytes(wrapped))
                self._data_keys_seen = max(self._data_keys_seen, seq)

    # --- blind indexes ---
    def blind_index(self, kind: str, value: str) -> bytes:
        """HMAC of a normalised value: equal values give equal digests; without the key, nothing."""
        ring = self._private()
        return hmac.new(ring.index_key, kind.encode() + b"\x00" + value.encode("utf-8"), hashlib.sha256).digest()[:16]

    def blind_indexes(self, kind: str, values: Iterable[str]) -> list[bytes]:
        return [self.blind_index(kind, v) for v in dict.fromkeys(values) if v]

    # --- ODK encrypted forms ---
    def odk_public_key_b64(self) -> str:
        return base64.b64encode(self._public().odk_public_der).decode()

    def odk_unwrap(self, encrypted_key: bytes) -> bytes:
        """Unwrap a submission's AES key (RSA-OAEP, SHA-256 digest and MGF1, as ODK Collect does)."""
        return self._odk_decrypt(encrypted_key)

    def _odk_decrypt(self, data: bytes) -> bytes:
        ring = self._private()
        assert ring.odk_private_der is not None
        key = serialization.load_der_private_key(ring.odk_private_der, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        try:
            return key.decrypt(data, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                                  label=None))
        except ValueError as exc:
            raise CryptoError("An ODK submission's key was not wrapped with this organisation's form key.",
                              code="odk_wrong_key", status=422) from exc


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> bytes:
    """Session tokens are stored only as digests, so a database copy can't be used to log in."""
    return hashlib.sha256(token.encode()).digest()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    a_b = a.encode() if isinstance(a, str) else a
    b_b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_b, b_b)


def hmac_sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def keys_by_purpose(keys: Sequence[StoredKey], purpose: str) -> list[StoredKey]:
    return [k for k in keys if k.purpose == purpose]


# --- exports and referral packets: encryption to a recipient ---------------------------------------
# A file that leaves the server is an *envelope*: a one-line header naming how it was sealed, then the
# ciphertext. To a recipient's X25519 public key it is a libsodium sealed box (only the holder of the
# private key opens it); to a passphrase, AES-256-GCM under an argon2id key. The plaintext exists only in
# memory; nothing here writes a file.
ENVELOPE_MAGIC = b"AMANAT-ENVELOPE-1\n"
PUBLIC_KEY_PREFIX = "amanat-pk1:"
SECRET_KEY_PREFIX = "amanat-sk1:"  # noqa: S105 - a format prefix, not a secret  # nosec B105
MIN_EXPORT_PASSPHRASE = 12


def generate_recipient_keypair() -> tuple[str, str]:
    """A partner's key pair as text: (public, private). The private half never reaches the server."""
    sk = PrivateKey.generate()
    return (PUBLIC_KEY_PREFIX + base64.b64encode(bytes(sk.public_key)).decode(),
            SECRET_KEY_PREFIX + base64.b64encode(bytes(sk)).decode())


def _key_bytes(text: str, prefix: str, what: str) -> bytes:
    text = text.strip()
    if not text.startswith(prefix):
        raise CryptoError(f"{what}: expected text starting with '{prefix}'.", code="key_format", status=422)
    try:
        raw = base64.b64decode(text[len(prefix):], validate=True)
    except ValueError as exc:
        raise CryptoError(f"{what}: not valid base64.", code="key_format", status=422) from exc
    if len(raw) != 32:
        raise CryptoError(f"{what}: a key is 32 bytes, this one is {len(raw)}.", code="key_format", status=422)
    return raw


def parse_public_key(text: str) -> bytes:
    """The 32 bytes of a recipient's public key given as ``amanat-pk1:<base64>``; a clear error otherwise."""
    return _key_bytes(text, PUBLIC_KEY_PREFIX, "public key")


def public_key_text(public: bytes) -> str:
    return PUBLIC_KEY_PREFIX + base64.b64encode(public).decode()


def key_fingerprint(public: bytes) -> str:
    """A short, readable fingerprint to compare by phone with the partner (first 16 hex of SHA-256)."""
    digest = hashlib.sha256(public).hexdigest()[:16]
    return ":".join(digest[i:i + 4] for i in range(0, 16, 4))


def _envelope(kind: str, header: dict[str, object], ciphertext: bytes) -> bytes:
    head = json.dumps({"kind": kind, **header}, separators=(",", ":"), sort_keys=True).encode()
    return ENVELOPE_MAGIC + head + b"\n" + ciphertext


def seal_to_recipient(public: bytes, plaintext: bytes, *, content: str) -> bytes:
    """``plaintext`` sealed to a recipient's X25519 key (libsodium sealed box), as an envelope."""
    return _envelope("x25519-sealedbox", {"content": content, "recipient": key_fingerprint(public)},
                     SealedBox(PublicKey(public)).encrypt(plaintext))


def seal_with_passphrase(passphrase: str, plaintext: bytes, *, content: str, time_cost: int = 3,
                         memory_kib: int = 65536) -> bytes:
    """``plaintext`` under AES-256-GCM with an argon2id key from ``passphrase``, as an envelope."""
    if len(passphrase) < MIN_EXPORT_PASSPHRASE:
        raise CryptoError(f"passphrase: at least {MIN_EXPORT_PASSPHRASE} characters.", code="passphrase_short",
                          status=422)
    kdf = KdfParams(salt=os.urandom(16), time_cost=time_cost, memory_kib=memory_kib)
    nonce = os.urandom(12)
    header: dict[str, object] = {"content": content, "kdf": kdf.to_dict(), "nonce": base64.b64encode(nonce).decode()}
    return _envelope("argon2id-aes256gcm", header,
                     AESGCM(_kek(passphrase, kdf)).encrypt(nonce, plaintext, content.encode()))


@dataclass(frozen=True)
class Opened:
    content: str  # what the envelope says it holds: a file name such as export.xlsx or packet.json
    plaintext: bytes


def envelope_header(blob: bytes) -> dict[str, object]:
    if not blob.startswith(ENVELOPE_MAGIC):
        raise CryptoError("This is not an Amanat envelope (the first line does not match).", code="envelope_format",
                          status=422)
    end = blob.find(b"\n", len(ENVELOPE_MAGIC))
    if end < 0:
        raise CryptoError("The envelope's header is cut off.", code="envelope_format", status=422)
    try:
        header = json.loads(blob[len(ENVELOPE_MAGIC):end])
    except ValueError as exc:
        raise CryptoError("The envelope's header is not valid JSON.", code="envelope_format", status=422) from exc
    if not isinstance(header, dict) or "kind" not in header:
        raise CryptoError("The envelope's header names no kind.", code="envelope_format", status=422)
    header["_body_offset"] = end + 1
    return header


def open_envelope(blob: bytes, *, secret_key: str | None = None, passphrase: str | None = None) -> Opened:
    """Open an envelope with the recipient's private key text or the passphrase it was sealed with."""
    header = envelope_header(blob)
    body, content = blob[int(str(header["_body_offset"])):], str(header.get("content", ""))
    if header["kind"] == "x25519-sealedbox":
        if not secret_key:
            raise CryptoError("This file is sealed to a key: give the private key file.", code="key_needed",
                              status=422)
        try:
            return Opened(content, SealedBox(PrivateKey(_key_bytes(secret_key, SECRET_KEY_PREFIX,
                                                                   "private key"))).decrypt(body))
        except NaclCryptoError as exc:
            raise CryptoError("The file did not open with this key (another recipient's key, or changed).",
                              code="envelope_wrong_key", status=422) from exc
    if header["kind"] == "argon2id-aes256gcm":
        if not passphrase:
            raise CryptoError("This file is sealed with a passphrase: give it.", code="passphrase_needed",
                              status=422)
        kdf = KdfParams.from_dict(header["kdf"])  # type: ignore[arg-type]
        nonce = base64.b64decode(str(header["nonce"]))
        try:
            return Opened(content, AESGCM(_kek(passphrase, kdf)).decrypt(nonce, body, content.encode()))
        except InvalidTag as exc:
            raise CryptoError("Wrong passphrase, or the file was changed.", code="envelope_wrong_passphrase",
                              status=422) from exc
    raise CryptoError("The envelope's kind is unknown.", code="envelope_format", status=422)
