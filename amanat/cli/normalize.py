"""``amanat normalize …``: show what values normalise to, one line (or one JSON object) per value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

import typer

from amanat.cli.base import friendly
from amanat.normalize import (
    NormalizeError,
    lookup_country,
    lookup_district,
    lookup_province,
    normalize_name,
    normalize_passport,
    normalize_phone,
    normalize_tazkira,
    parse_date,
    parse_mrz,
)

normalize_app = typer.Typer(
    help="Show how values normalise: names, dates, tazkira, passport, MRZ, phone, place.",
    no_args_is_help=True,
)

Values = Annotated[list[str], typer.Argument(help="One or more values to normalise.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object per value.")]


def _run(values: list[str], as_json: bool, fn: Callable[[str], dict[str, object]],
         line: Callable[[dict[str, object]], str]) -> None:
    failed = False
    for value in values:
        try:
            result = fn(value)
        except NormalizeError as exc:
            failed = True
            if as_json:
                typer.echo(json.dumps({"input": value, "ok": False, "error": exc.public_message},
                                      ensure_ascii=False))
            else:
                typer.echo(f"{value}\t✗ {exc.public_message}")
            continue
        if as_json:
            typer.echo(json.dumps({"input": value, "ok": True, **result}, ensure_ascii=False))
        else:
            typer.echo(f"{value}\t→ {line(result)}")
    if failed:
        raise typer.Exit(1)


def _verdict(result: dict[str, object]) -> str:
    reasons = result.get("reasons") or []
    mark = "valid" if result.get("valid") else "invalid"
    return mark + (f" ({'; '.join(str(r) for r in reasons)})" if reasons else "")  # type: ignore[union-attr]


@normalize_app.command()
@friendly
def name(values: Values, as_json: AsJson = False) -> None:
    """Names: folded key, romanisation, phonetic key, titles."""
    _run(values, as_json, lambda v: normalize_name(v).to_dict(),
         lambda r: f"folded={r['folded']} latin={r['latin']} phonetic={r['phonetic']}"
         + (f" titles={','.join(r['titles'])}" if r["titles"] else ""))  # type: ignore[arg-type]


@normalize_app.command()
@friendly
def date(
    values: Values,
    as_json: AsJson = False,
    calendar: Annotated[str | None, typer.Option(help="solar_hijri or gregorian, if known.")] = None,
) -> None:
    """Dates: Solar Hijri or Gregorian, full or partial, to a Gregorian ISO date."""
    _run(values, as_json, lambda v: parse_date(v, calendar=calendar).to_dict(),
         lambda r: f"{r['iso']} ({r['precision']}, {r['calendar']} {r['original_calendar_value']})"
         + (f" ambiguous, or {', '.join(r['alternatives'])}" if r["ambiguous"] else ""))  # type: ignore[arg-type]


@normalize_app.command()
@friendly
def tazkira(values: Values, as_json: AsJson = False) -> None:
    """Tazkira: e-tazkira number or paper volume/page/record."""
    _run(values, as_json, lambda v: normalize_tazkira(v).to_dict(),
         lambda r: f"{r['value']} [{r['kind']}] {_verdict(r)}")


@normalize_app.command()
@friendly
def passport(values: Values, as_json: AsJson = False) -> None:
    """Passport numbers."""
    _run(values, as_json, lambda v: normalize_passport(v).to_dict(),
         lambda r: f"{r['value']} {_verdict(r)}")


def _join_mrz_lines(values: list[str]) -> list[str]:
    """Two 44-character arguments in a row are the two lines of one MRZ."""
    out: list[str] = []
    i = 0
    while i < len(values):
        a = values[i].strip()
        if len(a) == 44 and i + 1 < len(values) and len(values[i + 1].strip()) == 44:
            out.append(a + "\n" + values[i + 1].strip())
            i += 2
        else:
            out.append(values[i])
            i += 1
    return out


@normalize_app.command()
@friendly
def mrz(values: Values, as_json: AsJson = False) -> None:
    """Passport MRZ (TD3): fields and check digits. Pass the two lines as two arguments or one."""
    _run(_join_mrz_lines(values), as_json, lambda v: parse_mrz(v).to_dict(),
         lambda r: f"{r['number']} {r['surname']}, {r['given_names']} born {r['birth_date']} {_verdict(r)}")


@normalize_app.command()
@friendly
def phone(
    values: Values,
    as_json: AsJson = False,
    region: Annotated[list[str] | None, typer.Option(help="Default regions, in order (AF IR PK).")] = None,
) -> None:
    """Phone numbers to E.164."""
    regions = tuple(region) if region else ("AF", "IR", "PK")
    _run(values, as_json, lambda v: normalize_phone(v, regions).to_dict(),
         lambda r: f"{r['e164']} [{r['region']}] {_verdict(r)}")


def _place(value: str, province: str | None) -> dict[str, object]:
    prov = lookup_province(value)
    dist = lookup_district(value, province)
    country = lookup_country(value)
    if prov is None and dist is None and country is None:
        raise NormalizeError("place: not found in the gazetteer or the country list", field="place")
    return {"province": prov.to_dict() if prov else None, "district": dist.to_dict() if dist else None,
            "country": country.to_dict() if country else None}


def _place_line(r: dict[str, object]) -> str:
    parts = []
    for level in ("province", "district", "country"):
        hit = r.get(level)
        if isinstance(hit, dict):
            code = hit.get("pcode") or hit.get("iso2")
            label = hit.get("name_en") or hit.get("name")
            parts.append(f"{level} {code} {label} ({hit['confidence']}, {hit['method']})")
    return "; ".join(parts)


@normalize_app.command()
@friendly
def place(
    values: Values,
    as_json: AsJson = False,
    province: Annotated[str | None, typer.Option(help="Province P-code to narrow district lookups.")] = None,
) -> None:
    """Places: province and district P-codes (OCHA 2018) and countries."""
    _run(values, as_json, lambda v: _place(v, province), _place_line)
