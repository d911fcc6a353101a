"""What people type as a field's label, in English, Dari and Pashto, mapped to the canonical field names.

Labels are folded before matching (case, Arabic/Persian/Pashto letter variants, diacritics, ZWNJ,
punctuation), so the table holds one spelling of each label and still matches `ي`/`ی`, `ك`/`ک`,
`نام‌پدر`/`نام پدر`, `د تذکرې شمېره`/`د تذکری شمیره` and "Father's Name:"/"fathers name".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

CANONICAL_FIELDS: tuple[str, ...] = (
    "full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name", "family_name",
    "gender", "date_of_birth", "place_of_birth", "province", "district", "tazkira_number", "tazkira_volume",
    "tazkira_page", "tazkira_record", "passport_number", "passport_mrz", "phone", "whatsapp_phone", "rank",
    "unit", "service_branch", "service_start", "service_end", "last_duty", "country_of_refuge",
    "refuge_entry_date", "current_city", "religion", "ethnicity", "notes", "family",
)
FAMILY_MEMBER_FIELDS: tuple[str, ...] = (
    "member_name", "member_relationship", "member_date_of_birth", "member_tazkira",
)
NAME_FIELDS = frozenset({"full_name", "full_name_latin"})

# One spelling per label is enough: variants of letters, case, spacing and punctuation are folded.
LABELS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "Name", "Full name", "Full names", "Applicant name", "Name of applicant", "Applicant",
        "Given name", "First name", "Name and surname", "Complete name",
        "نام", "نام مکمل", "نام کامل", "اسم", "اسم مکمل", "اسم کامل", "نام و تخلص", "اسم و تخلص",
        "نام متقاضی", "نام درخواست کننده", "نام و نام خانوادگی", "نام شخص", "شهرت", "شهرت کامل",
        "نوم", "بشپړ نوم", "پوره نوم", "مکمل نوم", "نوم او تخلص", "د غوښتونکي نوم", "د متقاضي نوم",
    ),
    "full_name_latin": (
        "Name in English", "Name (English)", "English name", "Name in Latin", "Name (Latin)",
        "Latin name", "Full name in English", "Full name (English)", "Full name (Latin)",
        "Name as in passport", "Name in passport", "Name (passport)",
        "نام به انگلیسی", "نام به لاتین", "نام به حروف لاتین", "نام انگلیسی", "نام لاتین",
        "اسم به انگلیسی", "نام مطابق پاسپورت", "نام به انگلیسی مطابق پاسپورت",
        "نوم په انگلیسی", "نوم په لاتین", "انگلیسی نوم", "د پاسپورت مطابق نوم",
    ),
    "father_name": (
        "Father's name", "Father name", "Fathers name", "Name of father", "F/Name", "F. Name", "F Name",
        "FName", "S/O", "D/O", "Son of", "Daughter of", "Father", "Father's full name",
        "نام پدر", "اسم پدر", "نام والد", "نام پدر متقاضی", "ولد", "بنت", "پدر", "ولدیت",
        "د پلار نوم", "پلار", "د پلار بشپړ نوم",
    ),
    "father_name_latin": (
        "Father's name in English", "Father's name (English)", "Father name in English",
        "Father's name (Latin)", "Father name (Latin)", "Father's name in Latin",
        "نام پدر به انگلیسی", "نام پدر به لاتین", "نام پدر به حروف لاتین", "نام پدر انگلیسی",
        "د پلار نوم په انگلیسی", "د پلار نوم په لاتین",
    ),
    "grandfather_name": (
        "Grandfather's name", "Grandfather name", "Grand father name", "Grand father's name",
        "Grandfathers name", "GF name", "G/F name", "G/Father name", "Paternal grandfather",
        "نام پدرکلان", "نام پدر کلان", "نام پدربزرگ", "نام پدر بزرگ", "اسم پدرکلان", "پدرکلان",
        "پدر کلان", "ولد ولد", "نام جد",
        "د نیکه نوم", "نیکه", "د نیکه بشپړ نوم",
    ),
    "family_name": (
        "Family name", "Surname", "Last name", "Tribal name", "Clan", "Family/Tribal name",
        "تخلص", "نام خانوادگی", "نام فامیل", "فامیل", "شهرت خانوادگی", "طایفه",
        "کورنی نوم", "د کورنی نوم", "ټبر", "د ټبر نوم",
    ),
    "gender": (
        "Gender", "Sex", "جنسیت", "جنس", "جندر", "ښځه یا نارینه",
    ),
    "date_of_birth": (
        "Date of birth", "DOB", "D.O.B", "Birth date", "Birthdate", "Date of Birth (DOB)", "Year of birth",
        "Birth year", "Born", "تاریخ تولد", "سال تولد", "تاریخ پیدایش", "سال پیدایش", "تولد",
        "تاریخ تولد متقاضی",
        "د زیږیدو نیټه", "د زیږون نیټه", "د زیږیدنی نیټه", "د تولد نیټه", "د زیږیدو کال", "زیږیدنه",
        "د پیدایش نیټه", "تولد نیټه",
    ),
    "place_of_birth": (
        "Place of birth", "Birthplace", "Birth place", "POB", "محل تولد", "جای تولد", "مکان تولد",
        "زادگاه", "محل پیدایش", "د زیږیدو ځای", "د زیږون ځای", "د تولد ځای", "زیږیدنځای",
    ),
    "province": (
        "Province", "Province of origin", "Home province", "Original province", "Province (origin)",
        "ولایت", "ولایت اصلی", "ولایت سکونت اصلی", "ولایت مربوطه", "اصلی ولایت", "ولایت اصلي",
    ),
    "district": (
        "District", "Woluswali", "Uluswali", "District of origin", "Home district",
        "ولسوالی", "ولسوالی اصلی", "ولسوالی مربوطه", "ناحیه", "ولسوالي", "اصلی ولسوالی",
    ),
    "tazkira_number": (
        "Tazkira", "Tazkira No", "Tazkira number", "Tazkira #", "Tazkera", "Tazkera No", "Tazkera number",
        "Tazkira ID", "e-Tazkira", "eTazkira", "Electronic tazkira", "NIC", "NID", "National ID",
        "National ID number", "National identity card", "ID number", "ID No", "ID card number",
        "تذکره", "نمبر تذکره", "تذکره نمبر", "شماره تذکره", "نمبر تذکیره", "شماره تذکیره", "تذکیره",
        "شماره تذکره الکترونیکی", "تذکره الکترونیکی", "نمبر تذکره الکترونیکی", "شماره تذکره تابعیت",
        "نمبر تذکره تابعیت", "تذکره تابعیت", "شماره کارت هویت", "نمبر شناسنامه", "شناسنامه",
        "د تذکری شمیره", "د تذکری نمبر", "تذکره شمیره", "د تذکرې شمېره", "د تابعیت تذکره", "بریښنایی تذکره",
    ),
    "tazkira_volume": (
        "Volume", "Jild", "Tazkira volume", "Volume No", "جلد", "جلد تذکره", "شماره جلد", "نمبر جلد",
        "ټوک", "د تذکری ټوک", "د ټوک شمیره",
    ),
    "tazkira_page": (
        "Page", "Page No", "Tazkira page", "Safha", "صفحه", "صفحه تذکره", "شماره صفحه", "نمبر صفحه",
        "مخ", "د تذکری مخ", "د مخ شمیره",
    ),
    "tazkira_record": (
        "Record", "Record No", "Record number", "Registration No", "Tazkira record", "Sabt",
        "Registration number",
        "ثبت", "شماره ثبت", "نمبر ثبت", "ثبت تذکره", "صکوک", "ثبت نمبر", "د ثبت شمیره", "د ثبت نمبر",
    ),
    "passport_number": (
        "Passport", "Passport No", "Passport number", "Passport #", "Passport no.", "Passport ID",
        "پاسپورت", "نمبر پاسپورت", "شماره پاسپورت", "پاسپورت نمبر", "گذرنامه", "شماره گذرنامه",
        "د پاسپورت شمیره", "د پاسپورت نمبر", "پاسپورت شمیره",
    ),
    "passport_mrz": (
        "MRZ", "Passport MRZ", "Machine readable zone", "MRZ lines", "کد ام آر زد", "ام آر زد",
    ),
    "phone": (
        "Phone", "Phone number", "Phone No", "Mobile", "Mobile number", "Mobile No", "Cell", "Cell number",
        "Contact", "Contact number", "Contact No", "Tel", "Telephone", "Telephone number", "Number",
        "شماره تماس", "شماره تلفن", "شماره موبایل", "نمبر تماس", "نمبر تلفن", "نمبر موبایل", "تلفن",
        "موبایل", "تماس", "شماره مبایل", "نمبر مبایل", "مبایل", "شماره", "نمبر", "شماره همراه",
        "د تلیفون شمیره", "د اړیکی شمیره", "تلیفون", "ټیلیفون", "د موبایل شمیره", "د مبایل شمیره",
        "د تماس شمیره", "د ټیلیفون شمیره", "شمیره",
    ),
    "whatsapp_phone": (
        "WhatsApp", "WhatsApp number", "WhatsApp No", "WhatsApp phone", "Whats app", "WA number",
        "واتساپ", "شماره واتساپ", "نمبر واتساپ", "واتس اپ", "شماره واتس اپ", "نمبر واتس اپ", "وتساپ",
        "شماره وتساپ", "نمبر وتساپ", "واتسپ", "نمبر واتسپ", "واټساپ", "د واټساپ شمیره", "د واتساپ شمیره",
        "د وتساپ شمیره", "واتساپ شمیره",
    ),
    "rank": (
        "Rank", "Military rank", "Grade", "Rank/Grade", "Police rank",
        "رتبه", "رتبه نظامی", "رتبه عسکری", "درجه", "درجه نظامی", "رتبه و درجه", "رتبه/درجه", "رتب",
        "رتبه نظامي", "پوځی رتبه", "نظامی رتبه", "عسکری رتبه",
    ),
    "unit": (
        "Unit", "Military unit", "Unit name", "Battalion", "Brigade", "Corps", "Kandak",
        "قطعه", "جزوتام", "جزو تام", "قطعه نظامی", "قطعه مربوطه", "جزوتام مربوطه", "قطعه کاری", "واحد",
        "کندک", "لوا", "قول اردو", "تولی", "پوځی قطعه", "د قطعی نوم", "د جزوتام نوم", "قطعه او جزوتام",
    ),
    "service_branch": (
        "Branch", "Service branch", "Branch of service", "Organization", "Organisation", "Force",
        "Ministry", "Department", "Institution", "Service", "Security force",
        "ارگان", "اداره", "نیرو", "بخش خدمت", "وزارت", "ارگان مربوطه", "اداره مربوطه", "سازمان",
        "نوع خدمت", "محل خدمت", "ارگان خدمت", "ځواک", "د خدمت اداره", "د دندی اداره",
    ),
    "service_start": (
        "Service start", "Start of service", "Service start date", "Start date", "Date joined",
        "Date of joining", "Joining date", "Enlistment date", "Date of enlistment", "Service from",
        "Year joined", "شروع خدمت", "تاریخ شروع خدمت", "آغاز خدمت", "تاریخ آغاز خدمت", "تاریخ شمولیت",
        "سال شمولیت", "شمولیت", "تاریخ شمولیت در اردو", "سال شروع خدمت", "تاریخ استخدام", "تاریخ تقرر",
        "د دندی پیل", "د خدمت پیل", "د شمولیت نیټه", "د دندی پیل نیټه", "د خدمت د پیل نیټه",
    ),
    "service_end": (
        "Service end", "End of service", "Service end date", "End date", "Date left", "Date of discharge",
        "Discharge date", "Service until", "Service to", "Year left",
        "ختم خدمت", "پایان خدمت", "تاریخ ختم خدمت", "تاریخ پایان خدمت", "تاریخ انفکاک", "انفکاک",
        "سال ختم خدمت", "سال پایان خدمت", "تاریخ ترک خدمت", "ترک خدمت", "د دندی پای", "د خدمت پای",
        "د خدمت د پای نیټه", "د دندی پای نیټه", "د انفکاک نیټه",
    ),
    "last_duty": (
        "Last duty", "Last position", "Last responsibility", "Last assignment", "Position", "Duty",
        "Job title", "Responsibility", "Designation", "Job", "Role", "Last job", "Post",
        "آخرین وظیفه", "وظیفه", "وظیفه آخر", "آخرین مسئولیت", "مسئولیت", "مسئولیت و وظیفه", "بست",
        "عنوان وظیفه", "وظیفه اخیر", "آخرین بست", "وظیفه و مسئولیت", "آخرین مسئولیت و وظیفه", "مسولیت",
        "مسوولیت", "مسؤولیت", "وظیفه قبلی", "کار", "وروستی دنده", "دنده", "مسؤلیت", "وروستی مسؤلیت",
        "دنده او مسؤلیت",
    ),
    "country_of_refuge": (
        "Country of refuge", "Current country", "Country", "Country of residence", "Host country",
        "Country now", "Country of stay",
        "کشور", "کشور فعلی", "کشور میزبان", "کشور محل اقامت", "کشور محل سکونت", "کشور اقامت",
        "کشور فعلي", "هیواد", "اوسنی هیواد", "فعلی هیواد", "کوربه هیواد", "د اوسیدو هیواد",
    ),
    "refuge_entry_date": (
        "Date of entry", "Entry date", "Date of arrival", "Arrival date", "Date entered", "Date arrived",
        "Date of entry into country", "Entry into country",
        "تاریخ ورود", "تاریخ ورود به کشور", "تاریخ ورود به ایران", "تاریخ ورود به پاکستان", "تاریخ مهاجرت",
        "زمان ورود", "تاریخ رسیدن", "تاریخ خروج از افغانستان", "د ننوتلو نیټه", "د راتګ نیټه",
        "د رسیدو نیټه", "د ورود نیټه", "د مهاجرت نیټه",
    ),
    "current_city": (
        "City", "Current city", "Current location", "Current address", "Location", "Address",
        "City of residence", "Where are you now",
        "شهر", "شهر فعلی", "محل سکونت فعلی", "آدرس فعلی", "سکونت فعلی", "محل فعلی", "موقعیت فعلی",
        "آدرس", "نشانی", "محل سکونت", "سکونت", "شهر محل سکونت", "ښار", "اوسنی ښار", "اوسنی استوګنځی",
        "اوسنی پته", "پته", "استوګنځی", "اوسنی ځای",
    ),
    "religion": ("Religion", "Faith", "دین", "مذهب", "دین و مذهب", "مذهب/دین", "دیانت"),
    "ethnicity": (
        "Ethnicity", "Ethnic group", "Tribe", "Qawm", "Nationality (ethnic)",
        "قوم", "قومیت", "ملیت", "اتنیک", "قبیله", "توکم", "قبیلوی",
    ),
    "notes": (
        "Notes", "Note", "Remarks", "Remark", "Comments", "Comment", "Additional information", "Other",
        "Other information", "Details", "Description",
        "ملاحظات", "ملاحظه", "توضیحات", "توضیح", "یادداشت", "معلومات اضافی", "معلومات بیشتر",
        "سایر معلومات", "نور معلومات", "یادونه", "تبصره", "اضافی معلومات", "شرح",
    ),
    "family": (
        "Family", "Family members", "Dependants", "Dependents", "اعضای خانواده", "خانواده",
        "اعضای فامیل", "کورنی", "د کورنی غړی",
    ),
    "member_name": (
        "Member name", "Family member name", "Name of family member", "Dependant name",
        "نام عضو خانواده", "نام عضو فامیل", "د کورنی د غړی نوم",
    ),
    "member_relationship": (
        "Relationship", "Relation", "Relationship to applicant", "نسبت", "رابطه", "قرابت",
        "نسبت با متقاضی", "اړیکه", "خپلوی", "د غوښتونکی سره اړیکه",
    ),
    "member_date_of_birth": (
        "Member date of birth", "Family member date of birth", "Dependant date of birth",
        "تاریخ تولد عضو خانواده", "د غړی د زیږیدو نیټه",
    ),
    "member_tazkira": (
        "Member tazkira", "Family member tazkira", "Dependant tazkira", "تذکره عضو خانواده",
        "د غړی تذکره",
    ),
}

# Letter folds: Arabic and Pashto letters to their Persian counterparts by sound (not by shape:
# ښ is "sh", not "s"), so a Pashto speaker on a Persian keyboard and vice versa still match.
_LETTER_FOLD = str.maketrans({
    "ي": "ی", "ى": "ی", "ې": "ی", "ۍ": "ی", "ئ": "ی", "ك": "ک", "ڪ": "ک", "ة": "ه", "ۀ": "ه", "ہ": "ه",
    "ھ": "ه", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ګ": "گ", "ښ": "ش", "ږ": "ژ", "ځ": "ز",
    "څ": "س", "ټ": "ت", "ډ": "د", "ړ": "ر", "ڼ": "ن", "ـ": None,
    "\u200c": " ", "\u200d": None, "\u200e": None, "\u200f": None, "\u061c": None, "\ufeff": None,
    "’": "'", "‘": "'", "`": "'", "ʼ": "'", "＃": "#", "：": ":",
})
_DIACRITICS = re.compile(r"[\u064b-\u065f\u0670\u06d6-\u06ed]")
# Punctuation that carries no meaning in a label: "Father's name" = "fathers name" = "F/Name" = "F Name".
_PUNCT = re.compile(r"[\s'\".,:;!?()\[\]{}/\\|_\-–—#*•·،؛؟«»<>=+~]+")
_ENUMERATION = re.compile(r"^\s*(?:[(\[]?[0-9۰-۹٠-٩]{1,3}[)\].\-–:،٫۔]|[*•▪●◦○■□►\-–—✓✅🔹🔸]+)\s*")


def fold_label(text: str) -> str:
    """A label in the form we compare: NFKC, case-folded, letter variants folded, punctuation as spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTER_FOLD)
    text = _DIACRITICS.sub("", text)
    # Apostrophes vanish rather than split, so "Father’s name" and "Fathers name" meet.
    return _PUNCT.sub(" ", text.replace("'", "")).strip()


def _key(text: str) -> str:
    # Spaces, ZWNJ or nothing between the parts of a compound are one spelling: نام‌پدر = نام پدر = نامپدر.
    return fold_label(text).replace(" ", "")


def strip_enumeration(text: str) -> str:
    """Drop a leading list marker: "1. ", "۱- ", "(3)", "•", "-"."""
    return _ENUMERATION.sub("", text, count=1)


# A column headed just "number" counts the list's rows: in a table it is never the phone, though
# LABELS["phone"] keeps "شماره"/"Number" for a typed form's "شماره: 0799…" line. Keys as _key makes them.
SERIAL_LABELS = frozenset({
    "", "no", "nos", "nr", "number", "num", "sno", "snos", "srno", "sn", "slno", "serial", "serialno",
    "serialnumber", "rowno", "row", "index", "شماره", "نمبر", "شمیره", "شمار", "ردیف", "شمارهردیف", "نمبرردیف",
    "مسلسل", "شمارهمسلسل", "نمبرمسلسل", "گنه", "لرنمبر",
})


def is_serial_label(text: str) -> bool:
    """Whether a column header only says "number" (`No.`, `#`, `S.No`, `شماره`, `ردیف`): a row count,
    not a phone. `شماره تماس`, `Phone No.` and the like are not."""
    return _key(strip_enumeration(text)) in SERIAL_LABELS


class LabelMatcher:
    """Built once per table of extra labels, then cheap to call per line or column."""

    def __init__(self, extra: Mapping[str, Iterable[str]] | None = None) -> None:
        self._table: dict[str, str] = dict(_base_table())
        self._first_words: set[str] = set(_base_first_words())
        for field, labels in (extra or {}).items():
            # The form's own labels win over the built-in guesses: they are what the applicant saw.
            self._table[_key(field)] = field
            for label in (field, *labels):
                folded = _key(label)
                if folded:
                    self._table[folded] = field
                    self._first_words.update({*fold_label(label).split()[:1], folded})

    def first_word_known(self, text: str) -> bool:
        """Whether some label starts with the text's first word: a cheap test before trying prefixes."""
        words = fold_label(strip_enumeration(text)).split(maxsplit=1)
        return bool(words) and words[0] in self._first_words

    def match(self, text: str) -> str | None:
        folded = _key(strip_enumeration(text))
        if not folded or len(folded) > 60:
            return None
        hit = self._table.get(folded)
        if hit is None and "(" in text:
            # "Date of birth (year)", "نام (به دری)": the parenthesis qualifies, the label is before it.
            hit = self._table.get(_key(strip_enumeration(text.split("(", 1)[0])))
        return hit


@lru_cache(maxsize=1)
def _base_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for field in (*CANONICAL_FIELDS, *FAMILY_MEMBER_FIELDS):
        table[_key(field)] = field
    for field, labels in LABELS.items():
        for label in labels:
            folded = _key(label)
            if folded in table and table[folded] != field:
                raise AssertionError(f"label table: {field} and {table[folded]} share a label")
            table[folded] = field
    return table


@lru_cache(maxsize=1)
def _base_first_words() -> frozenset[str]:
    labels = [*CANONICAL_FIELDS, *FAMILY_MEMBER_FIELDS, *(lb for lbs in LABELS.values() for lb in lbs)]
    # The first word of each label, and the whole label run together ("نامپدر احمد").
    return frozenset(w for label in labels for w in (*fold_label(label).split()[:1], _key(label)))


_DEFAULT_MATCHER: LabelMatcher | None = None


def match_label(text: str, extra: Mapping[str, Iterable[str]] | None = None) -> str | None:
    """The canonical field a typed label stands for, or None.

    `extra` maps a field name to the labels the XLSForm gives it in its language columns.
    """
    global _DEFAULT_MATCHER
    if extra:
        return LabelMatcher(extra).match(text)
    if _DEFAULT_MATCHER is None:
        _DEFAULT_MATCHER = LabelMatcher()
    return _DEFAULT_MATCHER.match(text)
