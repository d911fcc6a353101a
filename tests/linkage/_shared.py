"""Data and a model shared by the linkage tests, built once per test session (cached)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd

from amanat.linkage.features import features_frame, features_from_fields
from amanat.linkage.model import TrainedModel, train_model
from bench.synth import generate_population

SEED = 5

# The same man through three channels, his brother, and an unrelated namesake's family.
NABI_DARI = {"full_name": "محمد نبی", "father_name": "عبدالکریم", "grandfather_name": "غلام محمد",
             "date_of_birth": "۱۳۶۰/۰۵/۱۲", "district": "Kabul", "gender": "مرد"}
NABI_PASSPORT = {"full_name": "Mohammad Nabi", "father_name": "Abdul Karim", "date_of_birth": "1981-08-03",
                 "gender": "male", "passport_number": "P12345678"}
NABI_SHEET = {"full_name": "Muhammad Nabee", "father_name": "Abdulkarim", "date_of_birth": "3 August 1981",
              "gender": "M", "tazkira_number": "1399-1234-56789"}
BROTHER = {"full_name": "احمد شاه", "father_name": "عبدالکریم", "grandfather_name": "غلام محمد",
           "date_of_birth": "۱۳۶۵", "district": "Kabul", "gender": "مرد", "tazkira_number": "1399-7654-32100"}


@lru_cache(maxsize=1)
def population() -> tuple[dict[str, Any], ...]:
    return tuple(generate_population(1600, seed=SEED))


@lru_cache(maxsize=1)
def frame() -> pd.DataFrame:
    return features_frame(features_from_fields(str(r["record_id"]), r) for r in population())


@lru_cache(maxsize=1)
def model() -> TrainedModel:
    return train_model(frame(), seed=SEED, u_max_pairs=3e5)


def row(record_id: str, fields: dict[str, object]) -> dict[str, Any]:
    return features_from_fields(record_id, fields)
