"""The words of the service-record form in English, Dari and Pashto, for build_service_record only.

Each text is (English, Dari, Pashto). Afghan usage throughout: تذکره, ولد, ولایت, ولسوالی in Dari;
د پلار نوم, ولسوالۍ, د زېږېدو نېټه in Pashto; Solar Hijri dates are the default way people write them.
The runtime never imports this module; it reads the generated xlsx.
"""

from __future__ import annotations

T = tuple[str, str, str]

FORM_TITLE: T = ("Service record", "فورم سابقه خدمت", "د خدمت د سابقې فورمه")

REQUIRED_MESSAGE: T = ("This answer is required.", "جواب این سؤال ضروری است.", "د دې پوښتنې ځواب اړین دی.")

# Sections
PERSONAL: T = ("Personal details", "مشخصات شخصی", "شخصي معلومات")
SERVICE: T = ("Military or government service", "خدمت نظامی یا دولتی", "پوځي یا دولتي خدمت")
REFUGE: T = ("Where you are now", "محل فعلی شما", "اوس چېرته یاست")
IDENTITY: T = ("Identity documents", "اسناد هویت", "د پېژندنې اسناد")
CONTACT: T = ("Contact", "شماره‌های تماس", "د اړیکې شمېرې")
FAMILY: T = (
    "Family members (spouse, children and others with you)",
    "اعضای خانواده (همسر، فرزندان و دیگرانی که با شما هستند)",
    "د کورنۍ غړي (مېرمن یا مېړه، اولادونه او نور چې له تاسې سره دي)",
)
SENSITIVE: T = ("Religion and ethnicity (optional)", "دین و قومیت (اختیاری)", "دین او قومیت (اختیاري)")
DOCUMENTS: T = ("Photos of documents", "عکس اسناد", "د اسنادو عکسونه")
INTERMEDIARY: T = (
    "If someone else is filling in this form",
    "اگر شخص دیگری این فورم را پر می‌کند",
    "که بل څوک دا فورمه ډکوي",
)
CONSENT_SECTION: T = ("Consent", "رضایت", "رضایت")

# Personal
FULL_NAME: T = ("Full name", "نام مکمل", "بشپړ نوم")
FULL_NAME_HINT: T = (
    "As written in your tazkira, in Dari or Pashto letters.",
    "طوری که در تذکره نوشته شده، به حروف دری یا پښتو.",
    "لکه څنګه چې په تذکره کې لیکل شوی، په دري یا پښتو تورو.",
)
FULL_NAME_LATIN: T = ("Full name in Latin letters", "نام مکمل به حروف لاتین", "بشپړ نوم په لاتیني تورو")
LATIN_HINT: T = (
    "As in your passport. If you have no passport, as you usually write it in English.",
    "مطابق پاسپورت. اگر پاسپورت ندارید، طوری که معمولاً به انگلیسی می‌نویسید.",
    "لکه په پاسپورټ کې. که پاسپورټ نه لرئ، هغسې چې یې معمولاً په انګلیسي لیکئ.",
)
FATHER_NAME: T = ("Father's name", "نام پدر (ولد)", "د پلار نوم")
FATHER_NAME_HINT: T = (
    "As on your tazkira.",
    "مطابق تذکره.",
    "لکه په تذکره کې.",
)
FATHER_NAME_LATIN: T = ("Father's name in Latin letters", "نام پدر به حروف لاتین", "د پلار نوم په لاتیني تورو")
GRANDFATHER_NAME: T = ("Grandfather's name", "نام پدرکلان", "د نیکه نوم")
FAMILY_NAME: T = ("Family or tribal name", "تخلص یا نام قوم", "تخلص یا د قوم نوم")
GENDER: T = ("Gender", "جنسیت", "جنسیت")
DATE_OF_BIRTH: T = ("Date of birth", "تاریخ تولد", "د زېږېدو نېټه")
DATE_OF_BIRTH_HINT: T = (
    "Solar Hijri (e.g. 1365/04/12) or Gregorian (e.g. 1986-07-03). If you only know the year, write the "
    "year alone (e.g. 1365).",
    "هجری شمسی (مثلاً ۱۳۶۵/۰۴/۱۲) یا میلادی (مثلاً 1986-07-03). اگر تنها سال تولد را می‌دانید، فقط سال "
    "را بنویسید (مثلاً ۱۳۶۵).",
    "لمریز هجري (لکه ۱۳۶۵/۰۴/۱۲) یا زېږدیز (لکه 1986-07-03). که یوازې د زېږېدو کال درته معلوم وي، "
    "یوازې کال ولیکئ (لکه ۱۳۶۵).",
)
PLACE_OF_BIRTH: T = (
    "Place of birth (village, district or city)",
    "محل تولد (قریه، ولسوالی یا شهر)",
    "د زېږېدو ځای (کلی، ولسوالۍ یا ښار)",
)
PROVINCE: T = ("Province", "ولایت", "ولایت")
PROVINCE_HINT: T = (
    "The province your family is from, as on your tazkira.",
    "ولایتی که خانواده شما از آن‌جا است، مطابق تذکره.",
    "هغه ولایت چې ستاسې کورنۍ له هغه ځایه ده، لکه په تذکره کې.",
)
DISTRICT: T = ("District", "ولسوالی", "ولسوالۍ")
DISTRICT_HINT: T = (
    "The districts are listed under the name of their province.",
    "ولسوالی‌ها زیر نام ولایت خود آمده‌اند.",
    "ولسوالۍ د خپل ولایت تر نوم لاندې راغلې دي.",
)

# Service
SERVICE_BRANCH: T = ("Where did you serve?", "در کدام ارگان خدمت کرده‌اید؟", "په کوم ارګان کې مو خدمت کړی؟")
RANK: T = ("Rank", "رتبه", "رتبه")
RANK_HINT: T = (
    "Your last rank, in any language (e.g. Sergeant, Captain).",
    "آخرین رتبه شما، به هر زبانی (مثلاً بریدمل، تورن).",
    "ستاسې وروستۍ رتبه، په هره ژبه (لکه بریدمل، تورن).",
)
UNIT: T = (
    "Unit (kandak, brigade, corps or office)",
    "قطعه (کندک، لوا، قول اردو یا اداره)",
    "قطعه (کنډک، لوا، قول اردو یا اداره)",
)
SERVICE_START: T = ("Start of service", "تاریخ شروع خدمت", "د خدمت د پیل نېټه")
SERVICE_END: T = ("End of service", "تاریخ ختم خدمت", "د خدمت د پای نېټه")
PARTIAL_DATE_HINT: T = (
    "Solar Hijri or Gregorian; the year alone is fine (e.g. 1392).",
    "هجری شمسی یا میلادی؛ تنها سال هم کافی است (مثلاً ۱۳۹۲).",
    "لمریز هجري یا زېږدیز؛ یوازې کال هم بس دی (لکه ۱۳۹۲).",
)
LAST_DUTY: T = ("Last position and duties", "آخرین وظیفه و مسئولیت", "وروستۍ دنده او مسؤلیت")
REFERENCE_NAME: T = ("Reference", "معرف", "معرف")
REFERENCE_NAME_HINT: T = (
    "A US or NATO supervisor, or someone from your unit, who can confirm your service.",
    "یک سرپرست امریکایی یا ناتو، یا کسی از قطعه شما، که خدمت شما را تأیید کرده بتواند.",
    "یو امریکایي یا د ناټو سرپرست، یا ستاسې د قطعې څوک، چې ستاسې خدمت تایید کړای شي.",
)
REFERENCE_CONTACT: T = (
    "Reference's email or phone number",
    "ایمیل یا شماره تماس معرف",
    "د معرف برېښنالیک یا د تلیفون شمېره",
)

# Refuge
COUNTRY_OF_REFUGE: T = ("Country where you are now", "کشوری که اکنون در آن هستید", "هغه هېواد چې اوس پکې یاست")
REFUGE_ENTRY_DATE: T = ("Date you entered this country", "تاریخ ورود به این کشور", "دې هېواد ته د ننوتلو نېټه")
REFUGE_ENTRY_DATE_HINT: T = (
    "Solar Hijri (month names such as Hamal or Sawr are fine) or Gregorian; month and year are enough.",
    "هجری شمسی (نام ماه مثل حمل یا ثور هم درست است) یا میلادی؛ ماه و سال کافی است.",
    "لمریز هجري (د میاشتې نوم لکه وری یا غویی هم سم دی) یا زېږدیز؛ میاشت او کال بس دي.",
)
CURRENT_CITY: T = (
    "City or area where you live now",
    "شهر یا منطقه‌ای که اکنون در آن زندگی می‌کنید",
    "هغه ښار یا سیمه چې اوس پکې اوسېږئ",
)
CURRENT_CITY_HINT: T = (
    "Only the city or area, not your street or address.",
    "فقط شهر یا منطقه، نه کوچه یا آدرس خانه.",
    "یوازې ښار یا سیمه، نه کوڅه یا د کور پته.",
)

# Identity documents
TAZKIRA_NUMBER: T = ("Electronic tazkira number", "نمبر تذکره الکترونیکی", "د برېښنايي تذکرې شمېره")
TAZKIRA_NUMBER_HINT: T = (
    "As printed, e.g. 1400-0101-12345. Leave empty if you have a paper tazkira.",
    "همان‌طور که چاپ شده، مثلاً ۱۴۰۰-۰۱۰۱-۱۲۳۴۵. اگر تذکره کاغذی دارید، خالی بگذارید.",
    "لکه څنګه چې چاپ شوې، لکه ۱۴۰۰-۰۱۰۱-۱۲۳۴۵. که کاغذي تذکره لرئ، تشه یې پرېږدئ.",
)
DIGITS_MESSAGE: T = (
    "Use only digits and dashes.",
    "فقط عدد و خط تیره (-) بنویسید.",
    "یوازې عددونه او لنډه کرښه (-) ولیکئ.",
)
TAZKIRA_VOLUME: T = ("Paper tazkira: volume (jild)", "تذکره کاغذی: جلد", "کاغذي تذکره: جلد")
PAPER_TAZKIRA_HINT: T = (
    "Only if you have a paper tazkira.",
    "فقط اگر تذکره کاغذی دارید.",
    "یوازې که کاغذي تذکره لرئ.",
)
TAZKIRA_PAGE: T = ("Paper tazkira: page (safha)", "تذکره کاغذی: صفحه", "کاغذي تذکره: صفحه (مخ)")
TAZKIRA_RECORD: T = (
    "Paper tazkira: registration number (sabt)",
    "تذکره کاغذی: نمبر ثبت",
    "کاغذي تذکره: د ثبت شمېره",
)
PASSPORT_NUMBER: T = ("Passport number", "نمبر پاسپورت", "د پاسپورټ شمېره")
PASSPORT_NUMBER_HINT: T = (
    "Afghan or other passport, e.g. P01234567.",
    "پاسپورت افغانی یا دیگر، مثلاً P01234567.",
    "افغاني یا بل پاسپورټ، لکه P01234567.",
)
PASSPORT_MESSAGE: T = (
    "Use only Latin letters and digits.",
    "فقط حروف لاتین و عدد بنویسید.",
    "یوازې لاتیني توري او عددونه ولیکئ.",
)

# Contact
PHONE: T = ("Phone number", "شماره تلفن", "د تلیفون شمېره")
PHONE_HINT: T = (
    "With the country code, e.g. +98 912 345 6789 or +92 300 1234567.",
    "همراه با کود کشور، مثلاً ‎+98 912 345 6789 یا ‎+92 300 1234567.",
    "د هېواد له کوډ سره، لکه ‎+98 912 345 6789 یا ‎+92 300 1234567.",
)
PHONE_MESSAGE: T = (
    "Use digits and spaces, with + only at the start.",
    "فقط عدد و فاصله بنویسید؛ علامه + فقط در آغاز.",
    "یوازې عددونه او تشې ولیکئ؛ + یوازې په پیل کې.",
)
WHATSAPP_PHONE: T = (
    "WhatsApp number (if different)",
    "شماره واتس‌اپ (اگر فرق دارد)",
    "د واټس اپ شمېره (که توپیر لري)",
)

# Family
MEMBER_NAME: T = ("Full name", "نام مکمل", "بشپړ نوم")
MEMBER_RELATIONSHIP: T = ("Relationship to you", "نسبت با شما", "له تاسې سره خپلوي")
MEMBER_DATE_OF_BIRTH: T = ("Date of birth (or year)", "تاریخ تولد (یا سال)", "د زېږېدو نېټه (یا کال)")
MEMBER_TAZKIRA: T = ("Tazkira number", "نمبر تذکره", "د تذکرې شمېره")

# Special-category data
SENSITIVE_NOTE: T = (
    "These two questions are optional. We ask them only because they can support a protection claim, "
    "for example if you are in danger because of your religion or ethnicity. Your answers are encrypted "
    "and hidden from most staff. You may leave them empty.",
    "این دو سؤال اختیاری است. ما آن‌ها را فقط به این دلیل می‌پرسیم که می‌توانند به درخواست حمایت شما کمک "
    "کنند، مثلاً اگر به خاطر دین یا قومیت خود در خطر هستید. جواب‌های شما رمزگذاری می‌شود و از بیشتر "
    "کارمندان پنهان می‌ماند. می‌توانید آن‌ها را خالی بگذارید.",
    "دا دوه پوښتنې اختیاري دي. موږ یې یوازې د دې لپاره پوښتو چې ستاسې د ساتنې له غوښتنې سره مرسته کولی "
    "شي، د بېلګې په توګه که د خپل دین یا قومیت له امله په خطر کې یاست. ستاسې ځوابونه رمزي کېږي او له "
    "ډېرو کارکوونکو پټ ساتل کېږي. تاسې کولی شئ چې دا پوښتنې تشې پرېږدئ.",
)
RELIGION: T = ("Religion (and sect, if you wish)", "دین و مذهب", "دین او مذهب")
ETHNICITY: T = ("Ethnicity", "قومیت", "قومیت")

# Documents
DOC_TAZKIRA: T = ("Photo of your tazkira", "عکس تذکره", "د تذکرې عکس")
DOC_PASSPORT: T = (
    "Photo of your passport (the page with your photo)",
    "عکس پاسپورت (صفحه‌ای که عکس شما در آن است)",
    "د پاسپورټ عکس (هغه پاڼه چې ستاسې عکس پکې دی)",
)
DOC_SERVICE: T = (
    "Proof of service: ID card, certificate or letter",
    "سند خدمت: کارت هویت، تقدیرنامه یا مکتوب",
    "د خدمت ثبوت: د دندې کارت، تقدیرنامه یا مکتوب",
)
PHOTO_HINT: T = (
    "A clear photo in good light; up to 10 MB.",
    "یک عکس واضح در روشنی خوب؛ تا ۱۰ میگابایت.",
    "په ښه رڼا کې یو روښانه عکس؛ تر ۱۰ میګابایټه.",
)
FILE_HINT: T = (
    "A photo or a PDF; up to 10 MB.",
    "عکس یا فایل PDF؛ تا ۱۰ میگابایت.",
    "عکس یا PDF فایل؛ تر ۱۰ میګابایټه.",
)

# Intermediary and notes
INTERMEDIARY_NAME: T = ("Your name", "نام شما", "ستاسې نوم")
INTERMEDIARY_NAME_HINT: T = (
    "The person filling in the form for the applicant.",
    "شخصی که فورم را به جای متقاضی پر می‌کند.",
    "هغه کس چې دا فورمه د غوښتونکي پر ځای ډکوي.",
)
INTERMEDIARY_PHONE: T = (
    "Your phone or WhatsApp number",
    "شماره تلفن یا واتس‌اپ شما",
    "ستاسې د تلیفون یا واټس اپ شمېره",
)
NOTES: T = ("Anything else we should know", "معلومات دیگری که باید بدانیم", "نور هر څه چې باید پرې خبر شو")

# Consent: names what is stored, who sees it, and that it is encrypted.
CONSENT: T = (
    "Amanat keeps what you wrote in this form and the photos you attached: names, dates, service "
    "details, identity numbers, phone numbers, family members and, if you gave them, religion and "
    "ethnicity. It is encrypted as soon as it arrives. Only the caseworkers and verifiers of the "
    "organisation handling your case can read it, and only to verify your service and to seek a safe "
    "pathway (resettlement or humanitarian help) for you and your family. It is not shared with anyone "
    "else without your permission. Do you agree?",
    "امانت آنچه را در این فورم نوشته‌اید و عکس‌هایی را که ضمیمه کرده‌اید نگه می‌دارد: نام‌ها، تاریخ‌ها، "
    "جزئیات خدمت، نمبرهای هویت، شماره‌های تلفن، اعضای خانواده و، اگر نوشته باشید، دین و قومیت. این "
    "معلومات به محض رسیدن رمزگذاری می‌شود. فقط کارمندان مسئول پرونده و تأییدکنندگان مؤسسه‌ای که پرونده "
    "شما را پیش می‌برد می‌توانند آن را بخوانند، آن هم فقط برای تأیید خدمت شما و یافتن یک راه امن "
    "(اسکان مجدد یا کمک بشردوستانه) برای شما و خانواده‌تان. بدون اجازه شما با هیچ کس دیگری شریک ساخته "
    "نمی‌شود. آیا موافق هستید؟",
    "امانت هغه څه ساتي چې تاسې په دې فورمه کې لیکلي او هغه عکسونه چې مو ورسره ضمیمه کړي: نومونه، نېټې، "
    "د خدمت جزئیات، د پېژندنې شمېرې، د تلیفون شمېرې، د کورنۍ غړي او، که مو لیکلي وي، دین او قومیت. دا "
    "معلومات د رسېدو سره سم رمزي کېږي. یوازې د هغې ادارې د دوسیې مسؤل کارکوونکي او تاییدوونکي یې "
    "لوستلی شي چې ستاسې دوسیه پرمخ وړي، هغه هم یوازې ستاسې د خدمت د تایید او ستاسې او ستاسې د کورنۍ "
    "لپاره د یوې خوندي لارې (بیا مېشتېدنه یا بشري مرسته) موندلو لپاره. ستاسې له اجازې پرته له بل "
    "هېچا سره نه شریکېږي. ایا موافق یاست؟",
)
CONSENT_MESSAGE: T = (
    "Without your consent we cannot keep this form.",
    "بدون رضایت شما نمی‌توانیم این فورم را نگه داریم.",
    "ستاسې له رضایت پرته دا فورمه نه شو ساتلی.",
)

OTHER: T = ("Other", "دیگر", "نور")

CHOICE_LISTS: dict[str, list[tuple[str, T]]] = {
    "gender": [
        ("male", ("Male", "مرد", "نارینه")),
        ("female", ("Female", "زن", "ښځه")),
        ("other", OTHER),
    ],
    "service_branch": [
        ("ana", ("Afghan National Army (ANA)", "اردوی ملی افغانستان", "د افغانستان ملي اردو")),
        ("ana_soc", (
            "ANA Special Operations Corps (commandos)",
            "قول اردوی عملیات خاص (کماندو)",
            "د ځانګړو عملیاتو قول اردو (کوماندو)",
        )),
        ("ksf", (
            "Ktah Khas (special forces)",
            "قطعه خاص (کته خاص)",
            "کټه خاص (ځانګړي ځواکونه)",
        )),
        ("anp", ("Afghan National Police (ANP)", "پولیس ملی افغانستان", "د افغانستان ملي پولیس")),
        ("aaf", ("Afghan Air Force (AAF)", "قوای هوایی افغانستان", "د افغانستان هوايي ځواک")),
        ("nds", (
            "National Directorate of Security (NDS)",
            "ریاست عمومی امنیت ملی",
            "د ملي امنیت لوی ریاست",
        )),
        ("interpreter", ("Interpreter", "ترجمان", "ژباړن")),
        ("contractor", (
            "Contractor or other employee of US or NATO forces",
            "قراردادی یا کارمند دیگر نیروهای امریکایی یا ناتو",
            "د امریکايي یا ناټو ځواکونو قراردادي یا بل کارکوونکی",
        )),
        ("other", OTHER),
    ],
    "country": [
        ("IR", ("Iran", "ایران", "ایران")),
        ("PK", ("Pakistan", "پاکستان", "پاکستان")),
        ("TR", ("Türkiye", "ترکیه", "ترکیه")),
        ("AE", ("United Arab Emirates", "امارات متحده عربی", "متحده عربي امارات")),
        ("QA", ("Qatar", "قطر", "قطر")),
        ("DE", ("Germany", "آلمان", "جرمني")),
        ("US", ("United States", "ایالات متحده امریکا", "د امریکا متحده ایالات")),
        ("GB", ("United Kingdom", "بریتانیا", "برتانیه")),
        ("other", ("Other country", "کشور دیگر", "بل هېواد")),
    ],
    "relationship": [
        ("spouse", ("Spouse", "همسر", "مېرمن یا مېړه")),
        ("son", ("Son", "پسر", "زوی")),
        ("daughter", ("Daughter", "دختر", "لور")),
        ("father", ("Father", "پدر", "پلار")),
        ("mother", ("Mother", "مادر", "مور")),
        ("brother", ("Brother", "برادر", "ورور")),
        ("sister", ("Sister", "خواهر", "خور")),
        ("other", OTHER),
    ],
    "yes_no": [
        ("yes", ("Yes, I agree", "بلی، موافق هستم", "هو، موافق یم")),
        ("no", ("No", "نخیر", "نه")),
    ],
}

# Pashto spellings of province names where they differ from the Dari ones in the gazetteer and are
# well established (Pashto press usage); every other province and all districts reuse the Dari label.
PROVINCE_PASHTO: dict[str, str] = {
    "AF04": "میدان وردګ",
    "AF05": "لوګر",
    "AF06": "ننګرهار",
    "AF11": "غزني",
    "AF15": "کونړ",
    "AF20": "سمنګان",
    "AF24": "دایکنډي",
    "AF25": "ارزګان",
}
