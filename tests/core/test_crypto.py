import pytest

from amanat.core import crypto
from amanat.errors import CryptoError
from tests.conftest import PASSPHRASE


@pytest.fixture(scope="module")
def holder(keystore):
    h = crypto.KeyHolder()
    h.set(crypto.unlock(keystore, PASSPHRASE))
    return h


def test_wrong_passphrase_is_named(keystore):
    with pytest.raises(CryptoError) as err:
        crypto.unlock(keystore, "not the passphrase")
    assert err.value.code == "wrong_passphrase"
    assert "Wrong passphrase" in err.value.public_message


def test_field_roundtrip_and_context_binding(holder):
    blob = holder.encrypt_field("records.data", "محمد نبی".encode())
    assert "محمد".encode() not in blob
    assert holder.decrypt_field("records.data", blob).decode() == "محمد نبی"
    with pytest.raises(CryptoError) as err:  # moved to another column: refuses
        holder.decrypt_field("records.display_name", blob)
    assert err.value.code == "field_tampered"


def test_tampered_field_fails(holder):
    blob = bytearray(holder.encrypt_field("x", b"secret value"))
    blob[-1] ^= 1
    with pytest.raises(CryptoError):
        holder.decrypt_field("x", bytes(blob))


def test_sealed_needs_private_key(keystore, holder):
    public_only = crypto.KeyHolder()
    public_only.set(crypto.public_ring(keystore))
    sealed = public_only.seal(b"form fields")
    with pytest.raises(CryptoError) as err:
        public_only.open_sealed(sealed)
    assert err.value.code == "keys_locked"
    assert holder.open_sealed(sealed) == b"form fields"
    with pytest.raises(CryptoError) as err:
        holder.open_sealed(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    assert err.value.code == "seal_tampered"


def test_blind_index_is_keyed_and_deterministic(holder, keystore):
    a = holder.blind_index("tazkira", "1399-0123-45678")
    assert a == holder.blind_index("tazkira", "1399-0123-45678")
    assert a != holder.blind_index("passport", "1399-0123-45678")
    other = crypto.KeyHolder()
    other.set(crypto.unlock(crypto.create_keystore("another passphrase", time_cost=1, memory_kib=64),
                            "another passphrase"))
    assert other.blind_index("tazkira", "1399-0123-45678") != a
    assert len(a) == 16


def test_rotation_keeps_old_data_readable(keystore):
    h = crypto.KeyHolder()
    h.set(crypto.unlock(keystore, PASSPHRASE))
    old = h.encrypt_field("c", b"before")
    new_key, retired = crypto.rotate_field_key(keystore, PASSPHRASE)
    rotated = crypto.Keystore(keystore.kdf, keystore.check,
                              tuple(k for k in keystore.keys if k.key_id not in {r.key_id for r in retired})
                              + retired + (new_key,))
    h2 = crypto.KeyHolder()
    h2.set(crypto.unlock(rotated, PASSPHRASE))
    assert h2.active_field_key_id == "field-2"
    fresh = h2.encrypt_field("c", b"after")
    assert h2.field_key_id(fresh) == "field-2"
    assert h2.decrypt_field("c", old) == b"before"
    assert h2.decrypt_field("c", fresh) == b"after"


def test_opening_sealed_submissions_follows_the_ring_the_holder_holds(keystore):
    # The opening box is kept between submissions; another ring (another organisation's keys, a reload)
    # must open with its own key, and a locked holder must not keep the old one.
    other_store = crypto.create_keystore("another long passphrase", time_cost=1, memory_kib=64)
    h = crypto.KeyHolder()
    h.set(crypto.unlock(keystore, PASSPHRASE))
    first = h.seal(b"first")
    assert h.open_sealed(first) == b"first"
    h.set(crypto.unlock(other_store, "another long passphrase"))
    second = h.seal(b"second")
    assert h.open_sealed(second) == b"second"
    with pytest.raises(CryptoError) as err:
        h.open_sealed(first)
    assert err.value.code == "seal_tampered"
    h.set(crypto.public_ring(other_store))
    with pytest.raises(CryptoError) as err:
        h.open_sealed(second)
    assert err.value.code == "keys_locked"
