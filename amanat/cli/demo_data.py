"""Synthetic applicants for the demo organisation. Every person here is invented: names are drawn from
common Afghan given names, numbers are random, and no real tazkira or passport is used."""

from __future__ import annotations

import random

GIVEN = [("محمد نبی", "Mohammad Nabi"), ("احمد شاه", "Ahmad Shah"), ("عبدالرحمن", "Abdul Rahman"),
         ("گل آغا", "Gul Agha"), ("نجیب‌الله", "Najibullah"), ("سید یوسف", "Sayed Yousuf"),
         ("عبدالقادر", "Abdul Qader"), ("شیر محمد", "Sher Mohammad"), ("فرید", "Farid"), ("ذبیح‌الله", "Zabihullah"),
         ("جاوید", "Jawid"), ("حمید", "Hamid"), ("رحمت‌الله", "Rahmatullah"), ("نور احمد", "Noor Ahmad"),
         ("سمیع‌الله", "Samiullah"), ("عزیز", "Aziz"), ("ولی", "Wali"), ("خالد", "Khalid")]
FATHERS = [("عبدالله", "Abdullah"), ("غلام حیدر", "Ghulam Haidar"), ("محمد اکبر", "Mohammad Akbar"),
           ("حاجی گل", "Haji Gul"), ("سید احمد", "Sayed Ahmad"), ("خان محمد", "Khan Mohammad"),
           ("عبدالغنی", "Abdul Ghani")]
FAMILY = ["احمدزی", "پوپلزی", "هزاره", "تاجک", "صافی", "نورزی", "ستانکزی"]
PROVINCES = [("AF01", "کابل"), ("AF17", "ننگرهار"), ("AF27", "هرات"), ("AF33", "کندهار"), ("AF12", "غزنی"),
             ("AF20", "بلخ"), ("AF08", "پنجشیر")]
RANKS = ["سرباز", "بریدمل", "ساتنمن", "تورن", "جگرن", "دگروال"]
UNITS = ["قول اردوی ۲۰۱ سیلاب", "کندک کماندو ۳", "قطعه خاص ۰۱", "قوماندانی امنیه کابل", "غند ۲ لوای ۱"]
BRANCHES = ["ana", "ana_soc", "ksf", "anp", "aaf", "nds", "interpreter"]
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def demo_applicants(n: int, *, seed: int = 2021) -> list[dict[str, str]]:
    """``n`` synthetic submissions; about one in six repeats an earlier person's tazkira (a duplicate)."""
    rng = random.Random(seed)  # synthetic demo people, repeatable from the seed: no secret  # nosec B311
    out: list[dict[str, str]] = []
    for i in range(n):
        if out and i % 6 == 5:
            prev = dict(rng.choice(out))
            prev["full_name"] = prev["full_name_latin"]  # the same man, written in Latin letters this time
            prev["phone"] = "+92 3" + "".join(rng.choice("0123456789") for _ in range(9))
            out.append(prev)
            continue
        given, given_lat = rng.choice(GIVEN)
        father, father_lat = rng.choice(FATHERS)
        pcode, province_name = rng.choice(PROVINCES)
        year = rng.randint(1345, 1380)
        tazkira = f"{rng.randint(1390, 1402)}-{rng.randint(0, 9999):04d}-{rng.randint(0, 99999):05d}"
        out.append({
            "full_name": given, "full_name_latin": given_lat, "father_name": father, "father_name_latin": father_lat,
            "family_name": rng.choice(FAMILY), "gender": "male",
            "date_of_birth": f"{year}/{rng.randint(1, 12)}/{rng.randint(1, 29)}".translate(PERSIAN_DIGITS),
            "province": pcode, "place_of_birth": province_name, "rank": rng.choice(RANKS),
            "unit": rng.choice(UNITS), "service_branch": rng.choice(BRANCHES),
            "service_start": str(rng.randint(1385, 1395)).translate(PERSIAN_DIGITS), "service_end": "۱۴۰۰",
            "country_of_refuge": rng.choice(["IR", "PK"]), "refuge_entry_date": f"{rng.randint(1, 28)} Qaws 1400",
            "tazkira_number": tazkira.translate(PERSIAN_DIGITS) if rng.random() < 0.5 else tazkira,
            "phone": "+98 912" + "".join(rng.choice("0123456789") for _ in range(7)),
            "last_duty": "Checkpoint commander (synthetic demo record)", "consent": "yes",
        })
    return out
