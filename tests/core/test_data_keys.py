"""KeyHolder's per-record data keys: made and wrapped by the field key, found in the store by a holder that
lacks them, forgotten for good on erasure, rewrapped after a rotation; a value under a key that is gone
fails with a clear error rather than reading as something else."""

from __future__ import annotations

import pytest

from amanat.core import crypto
from amanat.core.types import KeyedDict, key_of, keyed
from amanat.errors import CryptoError
from tests.conftest import PASSPHRASE


def _holder(keystore: crypto.Keystore) -> crypto.KeyHolder:
    holder = crypto.KeyHolder()
    holder.set(crypto.unlock(keystore, PASSPHRASE))
    return holder


def test_data_keys_are_wrapped_by_the_field_key_and_found_in_the_store(keystore: crypto.Keystore) -> None:
    maker = _holder(keystore)
    wrapped = maker.new_data_keys(["rk:a", "rk:b"])
    assert [maker.field_key_id(w) for w in wrapped] == ["field-1", "field-1"]
    blob = maker.encrypt_field("records.data", b"secret", data_key="rk:a")
    assert maker.field_key_id(blob) == "rk:a" and maker.decrypt_field("records.data", blob) == b"secret"
    asked: list[tuple[int, list[str]]] = []
    store = [(1, "rk:a", wrapped[0]), (2, "rk:b", wrapped[1])]

    def source(after: int, wanted: list[str]) -> list[tuple[int, str, bytes]]:
        asked.append((after, list(wanted)))
        return [row for row in store if row[0] > after or row[1] in wanted]

    reader = _holder(keystore)  # another process: nothing in memory
    reader.set_data_key_source(source)  # type: ignore[arg-type]
    assert reader.decrypt_field("records.data", blob) == b"secret"
    assert reader.known_data_keys(["rk:a", "rk:b", "rk:c"]) == {"rk:a", "rk:b"}
    assert asked[0] == (0, ["rk:a"])  # one look brought every key stored since; then only what is missing
    with pytest.raises(CryptoError) as err:
        reader.decrypt_field("records.normalized", blob)  # the context is bound into the value
    assert err.value.code == "field_tampered"


def test_a_forgotten_key_is_never_read_back(keystore: crypto.Keystore) -> None:
    holder = _holder(keystore)
    (wrapped,) = holder.new_data_keys(["rk:a"])
    blob = holder.encrypt_field("records.data", b"secret", data_key="rk:a")
    # the store still has it (the erasing transaction has not committed), but this process erased it
    holder.set_data_key_source(lambda after, wanted: [(1, "rk:a", wrapped)])
    holder.forget_data_keys(["rk:a"])
    with pytest.raises(CryptoError) as err:
        holder.decrypt_field("records.data", blob)
    assert err.value.code == "data_key_erased"
    assert holder.known_data_keys(["rk:a"]) == set()
    with pytest.raises(CryptoError):
        holder.encrypt_field("records.data", b"new", data_key="rk:a")


def test_rotation_rewraps_data_keys_only(keystore: crypto.Keystore) -> None:
    holder = _holder(keystore)
    (wrapped,) = holder.new_data_keys(["rk:a"])
    blob = holder.encrypt_field("records.data", b"secret", data_key="rk:a")
    assert holder.rewrap_data_key("rk:a", wrapped) is None  # already under the active key
    new, retired = crypto.rotate_field_key(keystore, PASSPHRASE)
    rotated = crypto.Keystore(keystore.kdf, keystore.check, (*retired, *(k for k in keystore.keys
                                                                         if k.purpose != "field"), new))
    assert holder.refresh(rotated)
    rewrapped = holder.rewrap_data_key("rk:a", wrapped)
    assert rewrapped is not None and holder.field_key_id(rewrapped) == "field-2"
    assert holder.decrypt_field("records.data", blob) == b"secret"  # the value itself is untouched


def test_tagged_values_behave_as_plain_ones() -> None:
    value = keyed({"full_name": "x"}, "rk:a")
    assert isinstance(value, KeyedDict) and value == {"full_name": "x"} and key_of(value) == "rk:a"
    assert key_of(keyed("name", "rk:b")) == "rk:b" and keyed("name", "rk:b") == "name"
    assert key_of({"plain": 1}) is None and keyed(7, "rk:c") == 7
