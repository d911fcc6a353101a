"""Afghan names for the synthetic population: Dari/Pashto spelling, Latin spellings, relative frequency.

Faker has no Afghan locale, so the lists are compiled here. Each line is
``Dari spelling | Latin spellings seen in documents (first = most usual) | weight``. Weights give the
skew of real registers: Mohammad, Ahmad, Abdul…, Gul and Noor are far more common than the rest.
This list is separate from the normaliser's lexicon (amanat/normalize/data/names.tsv): it carries
spellings that lexicon does not list, so the benchmarks exercise the rules, not a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameSpec:
    dari: str
    latin: tuple[str, ...]
    weight: float


def _parse(block: str) -> tuple[NameSpec, ...]:
    out = []
    for line in block.strip().splitlines():
        dari, latin, weight = (p.strip() for p in line.split("|"))
        out.append(NameSpec(dari, tuple(s.strip() for s in latin.split(",")), float(weight)))
    return tuple(out)


# First elements of two-part male given names (محمد نبی, گل احمد, غلام سخی, …).
HEADS = _parse("""
محمد | Mohammad, Muhammad, Mohammed, Mohamad, Mohd, Muhammed | 45
غلام | Ghulam, Gholam, Golam, Gulam | 9
گل | Gul, Gull, Gol | 8
نور | Noor, Nur, Nour | 8
سید | Sayed, Sayyid, Syed, Seyed, Said | 8
میر | Mir, Meer | 5
شاه | Shah | 5
دوست | Dost, Doost | 3
خان | Khan | 3
ولی | Wali, Vali | 3
جان | Jan | 2
حاجی | Haji | 1
""")

# Single given names (also the second part of two-part names and the base of -ullah names).
MALE = _parse("""
احمد | Ahmad, Ahmed | 30
علی | Ali | 14
نبی | Nabi, Nabee | 8
حسن | Hassan, Hasan | 6
حسین | Hussain, Hussein, Hossain, Husain, Hossein | 7
عمر | Omar, Umar | 5
عثمان | Usman, Osman, Othman | 3
خالد | Khalid, Khaled | 4
حمید | Hamid, Hameed, Hamed | 6
رحیم | Rahim, Raheem | 6
کریم | Karim, Kareem | 7
رحمان | Rahman, Rehman | 4
ولی | Wali, Vali | 4
شاه | Shah | 3
یوسف | Yousuf, Yusuf, Yosuf, Yousef, Yousaf | 6
یعقوب | Yaqub, Yaqoob, Yakub | 3
یونس | Yunus, Younas, Younus | 3
اسماعیل | Ismail, Esmail | 3
اسحاق | Ishaq, Eshaq, Ishaque | 3
ابراهیم | Ibrahim, Ebrahim | 4
موسی | Musa, Mousa, Moosa | 3
عیسی | Isa, Essa, Eisa | 2
یحیی | Yahya, Yahia | 2
داود | Dawood, Daud, Dawud, Daoud | 5
سلیمان | Sulaiman, Suleman, Solaiman | 3
ادریس | Idris, Edris | 2
الیاس | Ilyas, Elyas, Elias | 2
ظاهر | Zahir, Zaher | 4
ناصر | Nasir, Naser, Nasser | 4
بصیر | Basir, Baseer | 3
نجیب | Najib, Najeeb | 4
حبیب | Habib, Habeeb | 4
عزیز | Aziz, Azeez | 4
لطیف | Latif, Lateef | 3
شریف | Sharif, Shareef | 4
رشید | Rashid, Rasheed | 4
مجید | Majid, Majeed | 3
وحید | Wahid, Waheed, Vahid | 4
فرید | Farid, Fareed | 4
جاوید | Javed, Jawed, Javid | 4
نوید | Navid, Naveed, Nawid | 3
فهیم | Fahim, Faheem | 3
نعیم | Naeem, Naim | 3
نسیم | Nasim, Naseem | 3
قاسم | Qasim, Qasem, Kasim | 3
قادر | Qadir, Qader, Kadir | 3
جلیل | Jalil, Jaleel | 2
جمیل | Jamil, Jameel | 2
کبیر | Kabir, Kabeer | 2
شفیق | Shafiq, Shafeeq | 3
طارق | Tariq, Tareq | 3
صادق | Sadiq, Sadeq | 3
صدیق | Siddiq, Sediq, Sidiq | 3
رفیق | Rafiq, Rafeeq | 2
توفیق | Tawfiq, Tofiq | 2
امین | Amin, Ameen | 4
ضیا | Zia, Ziya | 3
رحمت | Rahmat | 3
نعمت | Nemat, Niamat | 2
عصمت | Esmat, Ismat | 2
حکمت | Hekmat, Hikmat | 2
عنایت | Enayat, Inayat | 2
بریالی | Baryalai, Baryali, Baryalay | 2
زلمی | Zalmai, Zalmay | 2
اجمل | Ajmal | 3
اکمل | Akmal | 2
اسد | Asad | 2
آصف | Asif, Asef | 2
عتیق | Atiq, Ateeq | 2
بشیر | Bashir, Basheer | 3
حکیم | Hakim, Hakeem | 3
هارون | Haroon, Harun | 2
هاشم | Hashim, Hashem | 2
همایون | Homayoun, Humayun | 2
جمشید | Jamshid, Jamshed | 2
جواد | Jawad, Javad | 2
خوشحال | Khushal, Khoshal | 2
ملک | Malik, Malek | 2
منصور | Mansoor, Mansur | 3
مسعود | Masood, Masud, Massoud | 3
متین | Mateen, Matin | 2
میرویس | Mirwais, Mirways | 2
مراد | Murad, Morad | 2
مصطفی | Mustafa, Mostafa | 3
نذیر | Nazir, Nazeer | 2
نیاز | Niaz | 2
پرویز | Parwiz, Parviz, Pervez | 2
قیوم | Qayum, Qayyum | 2
رئوف | Rauf, Raouf | 2
صبور | Saboor, Sabur | 2
سلیم | Salim, Saleem | 3
سرور | Sarwar, Sarvar | 2
شکور | Shakoor, Shakur | 2
شیر | Sher, Shir | 3
سلطان | Sultan, Soltan | 3
طاهر | Tahir, Taher | 2
وسیم | Wasim, Waseem | 2
وزیر | Wazir | 2
ذبیح | Zabih, Zabi | 2
زاهد | Zahid, Zahed | 2
زبیر | Zubair, Zobair | 2
غنی | Ghani | 2
ستار | Sattar, Satar | 2
جبار | Jabbar, Jabar | 2
اکبر | Akbar | 3
اکرم | Akram | 2
اشرف | Ashraf | 3
انور | Anwar | 2
ایوب | Ayub, Ayoub | 2
بلال | Bilal, Belal | 2
احسان | Ehsan, Ihsan | 3
اقبال | Iqbal, Eqbal | 2
فرهاد | Farhad | 2
فاروق | Farooq, Faruq | 2
فیروز | Feroz, Firoz | 2
حمزه | Hamza, Hamzah | 2
حنیف | Hanif, Haneef | 2
عمران | Imran, Emran | 2
جلال | Jalal | 2
جمال | Jamal | 2
کامران | Kamran | 2
خلیل | Khalil, Khaleel | 2
محبوب | Mahboob, Mahbub | 2
محمود | Mahmood, Mahmud | 4
منیر | Munir, Muneer | 2
امید | Omid, Umid | 2
رمضان | Ramazan, Ramadan | 2
شعیب | Shoaib, Shuaib | 2
سهیل | Sohail, Suhail | 2
یاسین | Yasin, Yaseen | 2
ظفر | Zafar | 2
ذاکر | Zakir, Zaker | 2
عارف | Arif, Aref | 2
بهادر | Bahadur | 1
جمعه | Juma, Jumma | 2
خداداد | Khudadad, Khodadad | 1
نادر | Nadir, Nader | 2
پاچا | Pacha | 1
سکندر | Sikandar, Eskandar | 1
محسن | Mohsin, Mohsen | 2
آقا | Agha, Aqa | 2
سخی | Sakhi | 2
حیدر | Haidar, Haider | 3
رسول | Rasool, Rasul | 3
وکیل | Wakil, Wakeel | 2
طالب | Talib | 1
""")

# Bases of -ullah names (نجیب‌الله, ذبیح‌الله, …); the generator writes them with each house style.
ULLAH = _parse("""
نجیب | Najib, Najeeb | 6
ذبیح | Zabih, Zabi | 5
حبیب | Habib | 5
رحمت | Rahmat | 5
عزیز | Aziz | 4
سمیع | Sami | 4
نور | Noor, Nur | 5
امان | Aman | 4
امین | Amin | 4
اسد | Asad | 4
عنایت | Enayat, Inayat | 3
هدایت | Hedayat, Hidayat | 3
عصمت | Esmat, Ismat | 3
ثنا | Sana | 3
شفیع | Shafi | 2
خیر | Khair | 3
فیض | Faiz | 3
حمید | Hamid | 3
وحید | Wahid | 2
ضیا | Zia | 2
عطا | Atta, Ata | 3
قدرت | Qudrat | 2
روح | Roh, Ruh | 2
نعمت | Nemat, Niamat | 2
حکمت | Hekmat | 2
لطف | Lutf | 2
سیف | Saif | 3
ولی | Wali | 2
کریم | Karim | 2
مطیع | Mati | 2
فضل | Fazl | 2
احسان | Ehsan, Ihsan | 3
انعام | Inam | 2
شمس | Shams | 2
نصر | Nasr | 2
عبید | Obaid, Ubaid | 2
""")

# Second parts of عبد… names (the article is written by the generator's house style).
ABD = _parse("""
الرحمن | Rahman, Rehman | 8
الرحیم | Rahim | 5
الله | | 8
القادر | Qadir, Qader | 4
الواحد | Wahid, Wahed | 4
الغنی | Ghani | 4
الحق | Haq | 4
الستار | Sattar | 3
الصمد | Samad | 3
الباری | Bari | 2
الجبار | Jabbar | 2
الهادی | Hadi | 2
الحکیم | Hakim | 2
المنان | Manan | 2
الرئوف | Rauf, Raouf | 2
القیوم | Qayum, Qayyum | 2
الاحد | Ahad | 2
العزیز | Aziz | 3
اللطیف | Latif | 2
الشکور | Shakoor | 2
الوهاب | Wahab | 2
المتین | Matin | 2
البصیر | Basir | 2
الحمید | Hamid | 2
الکریم | Karim | 3
الرشید | Rashid | 3
الغفار | Ghafar | 2
الولی | Wali | 2
الحی | Hai | 2
الصبور | Saboor | 1
المجید | Majeed | 1
الرزاق | Razaq | 1
الخالق | Khaliq | 1
السلام | Salam | 1
الودود | Wadood | 1
الوکیل | Wakil | 1
""")

FEMALE = _parse("""
فاطمه | Fatima, Fatema, Fatemeh | 8
زهرا | Zahra | 4
زهره | Zohra, Zuhra | 4
مریم | Maryam, Mariam | 7
خدیجه | Khadija, Khadijah | 4
عایشه | Aisha, Ayesha | 4
زینب | Zainab, Zaynab | 5
سکینه | Sakina | 3
رحیمه | Rahima | 2
کریمه | Karima | 2
حلیمه | Halima | 2
نادیه | Nadia | 3
فرزانه | Farzana | 3
فریبا | Fariba | 2
فرشته | Fereshta, Freshta | 3
گلالی | Gulalai | 2
گلناز | Gulnaz | 2
حمیده | Hamida | 2
هما | Homa, Huma | 2
لیلا | Laila, Leila | 3
لیلما | Lailuma | 2
ملالی | Malalai | 2
مرضیه | Marzia | 2
معصومه | Masooma, Masuma | 2
مینا | Mina, Meena | 2
مرسل | Mursal | 2
نفیسه | Nafisa | 2
نسرین | Nasrin, Nasreen | 2
نازنین | Nazanin | 2
نیلوفر | Nilofar, Nelofar | 2
پروانه | Parwana | 2
راضیه | Razia | 2
رویا | Roya | 2
صدف | Sadaf | 2
صفیه | Safia | 2
سحر | Sahar | 2
سمیره | Samira | 2
شبنم | Shabnam | 3
شکیله | Shakila | 2
ثریا | Soraya, Suraya | 2
تهمینه | Tahmina | 2
وحیده | Wahida | 2
زرغونه | Zarghona, Zarghuna | 2
زکیه | Zakia | 2
پلوشه | Palwasha | 2
نجیبه | Najiba | 2
نرگس | Nargis | 2
شریفه | Sharifa | 2
لطیفه | Latifa | 2
جمیله | Jamila | 2
حبیبه | Habiba | 2
رابعه | Rabia | 2
وژمه | Wazhma | 2
بشری | Bushra | 2
آمنه | Amina | 2
حسینه | Hasina | 2
خاطره | Khatera | 2
مژگان | Muzhgan, Mozhgan | 2
نسیمه | Nasima | 2
شیما | Shaima | 2
شکریه | Shukria | 2
سیمین | Simin | 2
طاهره | Tahira, Tahera | 2
یلدا | Yalda | 2
بی بی گل | Bibi Gul | 2
""")

FAMILY = _parse("""
احمدزی | Ahmadzai, Ahmadzay | 6
پوپلزی | Popalzai | 3
بارکزی | Barakzai | 3
اچکزی | Achakzai | 3
نورزی | Noorzai, Nurzai | 3
علیزی | Alizai | 2
الکوزی | Alokozai | 2
اسحاقزی | Ishaqzai | 2
کاکر | Kakar | 3
مومند | Momand, Mohmand | 3
شینواری | Shinwari | 3
آفریدی | Afridi | 2
وردک | Wardak | 4
زدران | Zadran | 3
منگل | Mangal | 3
جاجی | Jaji | 2
صافی | Safi | 3
درانی | Durrani | 2
غلزی | Ghilzai | 2
هوتک | Hotak | 2
توخی | Tokhi | 2
سلیمانخیل | Sulaimankhel, Sulaiman Khel | 2
خروتی | Kharoti | 2
نیازی | Niazi | 2
لودین | Ludin | 1
ستانکزی | Stanikzai, Stanekzai | 2
کرزی | Karzai | 1
امیری | Amiri | 4
هاشمی | Hashimi, Hashemi | 4
حسینی | Hussaini, Hosseini | 4
سادات | Sadat | 4
رحیمی | Rahimi | 4
کریمی | Karimi | 4
نظری | Nazari | 3
حیدری | Haidari, Heydari | 3
احمدی | Ahmadi | 5
محمدی | Mohammadi, Muhammadi | 5
رسولی | Rasuli, Rasooli | 2
اکبری | Akbari | 2
قادری | Qaderi, Qadiri | 2
نادری | Naderi | 2
رضایی | Rezaei, Rezai | 3
پنجشیری | Panjshiri | 2
کوهستانی | Kohistani | 2
لوگری | Logari | 1
کابلی | Kabuli | 1
هروی | Herawi, Heravi | 2
بلخی | Balkhi | 2
بدخشی | Badakhshi | 1
اندرابی | Andarabi | 1
سلطانی | Sultani, Soltani | 2
جلالی | Jalali | 2
جمالی | Jamali | 1
حبیبی | Habibi | 2
عزیزی | Azizi | 3
حکیمی | Hakimi | 2
نبی‌زاده | Nabizada, Nabizadah | 2
احمدزاده | Ahmadzada | 1
شریفی | Sharifi | 2
نوری | Noori, Nuri | 3
صمدی | Samadi | 2
وحیدی | Wahidi | 2
ظاهری | Zahiri | 1
فیضی | Faizi | 2
عثمانی | Osmani, Usmani | 2
ساهک | Sahak | 1
هوتکی | Hotaki | 1
پوپل | Popal | 1
ناصری | Naseri, Nasiri | 2
آخندزاده | Akhundzada | 2
صدیقی | Sediqi, Siddiqi | 2
حمیدی | Hamidi | 2
رحمانی | Rahmani | 2
یوسفزی | Yousafzai, Yusufzai | 2
مرادی | Muradi, Moradi | 2
زازی | Zazai | 1
تنی | Tanai | 1
شیرزاد | Sherzad | 1
شیرزی | Sherzai | 1
صاحبزاده | Sahibzada | 1
مجددی | Mujaddidi | 1
گیلانی | Gailani | 1
ترکی | Taraki | 1
هزاره | Hazara | 1
سدوزی | Sadozai | 1
محمدزی | Mohammadzai | 2
دولتزی | Dawlatzai | 1
عظیمی | Azimi | 2
ایوبی | Ayoubi, Ayubi | 2
غزنوی | Ghaznawi | 1
محمودی | Mahmoodi | 2
عمری | Omari | 1
سروری | Sarwari | 1
طاهری | Taheri | 2
یعقوبی | Yaqubi | 1
زمانی | Zamani | 2
امرخیل | Amarkhel | 1
خوگیانی | Khogyani | 1
جلالزی | Jalalzai | 1
""")

# Titles and honorifics that appear and disappear between registrations of one person.
TITLES = _parse("""
حاجی | Haji, Alhaj | 5
انجنیر | Eng., Engineer | 2
داکتر | Dr., Doctor | 2
مولوی | Mawlawi, Maulvi | 2
ملا | Mullah | 1
استاد | Ustad | 1
قاری | Qari | 1
""")
