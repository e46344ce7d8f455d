"""Special-category sentences (KVKK Art. 6 / GDPR Art. 9) and their harmless look-alikes.

A *cue sentence* reveals something about the speaker (or a relative) — "şeker
hastasıyım", "sendika üyesiyim", "I am HIV positive" — and its cue is gold-labelled
with the category. A *general-talk* sentence mentions the same topics without saying
anything about a person ("diyabet istatistikleri arttı", "the clinic has a new oncology
wing"); it is deliberately not labelled, so a detector that flags topics rather than
disclosures is caught out.

Each cue sentence names the company domains where it reads naturally (a union
discount at the bank, a gluten-free filter at the shop, insulin at the clinic).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.entities import SPECIAL_CATEGORIES
from pipeline.sample.builder import Fragment, Tagged

BANK, SHOP, CLINIC = "bank", "shop", "clinic"


@dataclass(frozen=True)
class CueSentence:
    category: str
    lang: str  # "tr", "en" or "mix" (Turkish–English code-switching)
    domains: tuple[str, ...]
    template: str  # exactly one "{cue}"
    cues: tuple[str, ...]

    def render(self, rng: random.Random) -> Fragment:
        before, after = self.template.split("{cue}")
        return (before, Tagged(rng.choice(self.cues), category=self.category), after)


def _c(category: str, lang: str, domains: tuple[str, ...], template: str, *cues: str) -> CueSentence:
    if category not in SPECIAL_CATEGORIES:
        raise ValueError(f"unknown special category {category!r}")
    return CueSentence(category, lang, domains, template, cues)


CUE_SENTENCES: tuple[CueSentence, ...] = (
    # HEALTH
    _c("HEALTH", "tr", (CLINIC,), "Bu arada {cue}, doktorun bunu bilmesi gerekiyor.",
       "şeker hastasıyım", "insülin kullanıyorum", "tansiyon hastasıyım", "astım hastasıyım",
       "kalp pili taşıyorum", "epilepsi hastasıyım"),
    _c("HEALTH", "tr", (CLINIC,), "{cue}, bu yüzden kan tahlili sonuçlarım benim için çok önemli.",
       "Kemoterapi görüyorum", "Böbrek yetmezliği tedavisi görüyorum", "Hamileyim", "Diyalize giriyorum"),
    _c("HEALTH", "tr", (CLINIC,), "Ayrıca {cue}, ilaçlarım bitmek üzere.",
       "depresyon tedavisi görüyorum", "antidepresan kullanıyorum", "tiroid hastasıyım", "insülin kullanıyorum"),
    _c("HEALTH", "tr", (CLINIC,), "Babam {cue}, evde bakım hizmetiniz var mı?",
       "Alzheimer hastası", "şeker hastası", "felç geçirdi ve yatağa bağlı"),
    _c("HEALTH", "tr", (BANK,), "{cue}, hastane masrafları yüzünden kart borcumu yapılandırmak istiyorum.",
       "Kanser tedavisi görüyorum", "Diyalize giriyorum", "Kemoterapi görüyorum"),
    _c("HEALTH", "tr", (BANK,), "Şubeye gelemiyorum çünkü {cue}.",
       "tekerlekli sandalye kullanıyorum", "görme engelliyim", "MS hastasıyım"),
    _c("HEALTH", "tr", (SHOP,), "{cue}, glutensiz ürünleri nasıl filtreleyebilirim?", "Çölyak hastasıyım"),
    _c("HEALTH", "tr", (SHOP,), "{cue}, şekersiz ürünlerde indirim var mı?", "Şeker hastasıyım", "Diyabetim var"),
    _c("HEALTH", "en", (CLINIC,), "Also, {cue}, so I need to refill my medication.",
       "I am HIV positive", "I'm diabetic", "I have epilepsy", "I'm on chemotherapy"),
    _c("HEALTH", "en", (CLINIC,), "{cue} and my doctor asked me to get a blood test.",
       "I'm pregnant", "I have hypertension", "I was diagnosed with breast cancer last year"),
    _c("HEALTH", "en", (BANK,), "I can't come to the branch because {cue}.",
       "I'm undergoing chemotherapy", "I use a wheelchair"),
    _c("HEALTH", "en", (SHOP,), "{cue}, do you sell gluten-free bread?", "I have celiac disease"),
    _c("HEALTH", "mix", (CLINIC,), "Bu arada {cue}, ilaç refill lazım.", "HIV pozitifim", "insülin kullanıyorum"),
    # RELIGION
    _c("RELIGION", "tr", (SHOP,), "{cue}, teslimatı iftardan sonraya alabilir miyiz?", "Oruçluyum", "Ramazan'da oruç "
                                                                                                    "tutuyorum"),
    _c("RELIGION", "tr", (BANK,), "{cue} faizli ürün istemiyorum; katılım hesabınız var mı?",
       "Müslüman olduğum için", "Dini inancım gereği"),
    _c("RELIGION", "tr", (CLINIC,), "{cue}, ilaç saatlerimi iftar ve sahura göre ayarlayabilir miyiz?",
       "Oruçluyum", "Ramazan'da oruç tutuyorum"),
    _c("RELIGION", "tr", (BANK,), "Ben {cue}, cemevine düzenli bağış talimatı vermek istiyorum.", "Alevi'yim"),
    _c("RELIGION", "tr", (CLINIC,), "{cue} kan nakli konusunda hassasiyetim var.", "Yehova Şahidi olduğum için"),
    _c("RELIGION", "en", (SHOP,), "{cue}, are these gummy sweets halal?", "As a practising Muslim", "I'm Muslim"),
    _c("RELIGION", "en", (CLINIC, BANK), "{cue}, so please don't book anything for me on a Saturday.",
       "I'm Jewish and keep Shabbat"),
    _c("RELIGION", "mix", (SHOP,), "{cue}, delivery'yi iftardan sonraya alabilir miyiz?", "Oruçluyum"),
    # PHILOSOPHICAL_BELIEF
    _c("PHILOSOPHICAL_BELIEF", "tr", (SHOP,), "{cue}, hayvansal içerik barındırmayan ürünleri gösterebilir misiniz?",
       "Etik nedenlerle veganım", "Hayvan hakları savunucusu olduğum için"),
    _c("PHILOSOPHICAL_BELIEF", "tr", (BANK,), "{cue}, silah sanayisine yatırım yapan fonlara para yatırmak "
                                              "istemiyorum.",
       "Pasifist olduğum için", "Vicdani retçiyim"),
    _c("PHILOSOPHICAL_BELIEF", "tr", (CLINIC,), "{cue}, bu yüzden manevi danışmanlık hizmeti istemiyorum.", "Ateistim"),
    _c("PHILOSOPHICAL_BELIEF", "en", (SHOP,), "{cue}, do you have a vegan leather option?", "I'm a committed vegan"),
    _c("PHILOSOPHICAL_BELIEF", "en", (BANK,), "{cue}, please exclude arms manufacturers from my fund.",
       "Because of my pacifist convictions"),
    # POLITICAL_OPINION (the parties are invented)
    _c("POLITICAL_OPINION", "tr", (BANK,), "{cue}, parti aidatımı otomatik ödeme talimatıyla ödemek istiyorum.",
       "Yeşil Yol Partisi üyesiyim", "Halkın Sesi Partisi üyesiyim"),
    _c("POLITICAL_OPINION", "tr", (SHOP,), "{cue}, toplu bayrak siparişine fatura kesebilir misiniz?",
       "Yeşil Yol Partisi ilçe yöneticisiyim"),
    _c("POLITICAL_OPINION", "en", (BANK,), "{cue} and I want to set up a monthly donation.",
       "I'm a member of the Green Path Party"),
    # ETHNIC_ORIGIN
    _c("ETHNIC_ORIGIN", "tr", (BANK,), "{cue}, annem Türkçe bilmiyor; Kürtçe destek verebilir misiniz?", "Kürt "
                                                                                                         "kökenliyim"),
    _c("ETHNIC_ORIGIN", "tr", (BANK,), "{cue} kredi başvurularımda ayrımcılığa uğradığımı düşünüyorum.", "Roman "
                                                                                                         "olduğum "
                                                                                                         "için"),
    _c("ETHNIC_ORIGIN", "tr", (CLINIC,), "{cue}, bu yüzden bazı taramaları önerdiler.",
       "Çerkez asıllıyım", "Aşkenaz Yahudisi kökenliyim"),
    _c("ETHNIC_ORIGIN", "en", (BANK, SHOP), "{cue}, so could you send documents in Arabic if possible?",
       "I'm of Syrian Arab origin"),
    # SEXUAL_LIFE
    _c("SEXUAL_LIFE", "tr", (BANK,), "{cue}, partnerimi hesabıma ortak olarak ekleyebilir miyim? Resmi evli değiliz.",
       "Eşcinselim", "Gey olduğum için"),
    _c("SEXUAL_LIFE", "tr", (CLINIC,), "{cue}, cinsel yolla bulaşan hastalık testi yaptırmak istiyorum.",
       "Son aylarda birden fazla partnerim oldu"),
    _c("SEXUAL_LIFE", "en", (CLINIC,), "{cue}, so I'd like a PrEP consultation.", "I'm gay", "I'm a bisexual man"),
    _c("SEXUAL_LIFE", "en", (BANK,), "{cue} and we want a joint account.", "My same-sex partner and I live together"),
    # CRIMINAL_RECORD
    _c("CRIMINAL_RECORD", "tr", (BANK,), "{cue}, kredi başvurum bu yüzden mi reddedildi?",
       "Sabıka kaydım var", "Adli sicil kaydım temiz değil", "Geçen yıl cezaevinden çıktım"),
    _c("CRIMINAL_RECORD", "tr", (SHOP,), "{cue}, elektronik kelepçe yüzünden evden çıkamıyorum, kargoyu kapıya "
                                         "bırakın.",
       "Denetimli serbestlikteyim"),
    _c("CRIMINAL_RECORD", "en", (BANK,), "{cue}; will that affect my account opening?",
       "I have a criminal record", "I served a prison sentence"),
    # UNION_MEMBERSHIP
    _c("UNION_MEMBERSHIP", "tr", (BANK,), "{cue}, sendika üyelerine özel kredi kampanyasından yararlanabilir miyim?",
       "Sendika üyesiyim", "Öğretmen sendikasına üyeyim", "Metal işçileri sendikası üyesiyim"),
    _c("UNION_MEMBERSHIP", "tr", (SHOP,), "{cue}, sendika indirim kodu sepette çalışmıyor.",
       "Sağlık çalışanları sendikası üyesiyim", "Sendika üyesiyim"),
    _c("UNION_MEMBERSHIP", "en", (BANK,), "{cue}, is there a discount for union members?", "I'm a trade union member"),
    # BIOMETRIC
    _c("BIOMETRIC", "tr", (BANK,), "Mobil uygulamada kayıtlı {cue} silmenizi istiyorum.",
       "parmak izi verilerimi", "yüz tanıma verilerimi"),
    _c("BIOMETRIC", "tr", (CLINIC,), "{cue} kayıt sisteminizde saklanıyor mu?",
       "Girişte alınan parmak izim", "Retina taramam"),
    _c("BIOMETRIC", "en", (BANK,), "Please delete {cue} from the app.", "my fingerprint data", "my face ID template"),
    # GENETIC
    _c("GENETIC", "tr", (CLINIC,), "{cue}, mamografi takibi için randevu istiyorum.",
       "BRCA1 geni taşıyıcısıyım", "Genetik testte BRCA2 mutasyonu çıktı"),
    _c("GENETIC", "tr", (CLINIC,), "{cue}, çocuğumuz için genetik danışmanlık almak istiyoruz.",
       "Talasemi taşıyıcısıyım", "Eşim ve ben SMA taşıyıcısıyız"),
    _c("GENETIC", "tr", (BANK,), "{cue}, hayat sigortası primim artar mı?", "Genetik testim Huntington riski gösterdi"),
    _c("GENETIC", "en", (CLINIC,), "{cue}, so I'd like genetic counselling.",
       "My DNA test showed I carry the Huntington gene"),
    # ATTIRE
    _c("ATTIRE", "tr", (BANK,), "{cue} kimlik fotoğrafımı bu haliyle yükleyebilir miyim?", "Başörtülü olduğum için"),
    _c("ATTIRE", "tr", (SHOP,), "{cue} uzun ve bol kesim tunik önerir misiniz?",
       "Tesettürlü giyindiğim için", "Başörtülü olduğum için"),
    _c("ATTIRE", "tr", (CLINIC,), "{cue} muayenede kadın doktor tercih ediyorum.",
       "Çarşaflı olduğum için", "Tesettürlü olduğum için"),
    _c("ATTIRE", "en", (SHOP,), "{cue}, do you have this dress with longer sleeves?", "I wear a hijab"),
    _c("ATTIRE", "en", (CLINIC,), "{cue}, I'd prefer a female doctor.", "As I wear a niqab"),
)


def _lang_pool(lang: str) -> tuple[str, ...]:
    # Code-switched speakers use both the Turkish sentences and the mixed ones.
    return ("mix", "tr") if lang == "mix" else (lang,)


def categories_for(domain: str, lang: str) -> list[str]:
    """Special categories that have a cue sentence for this domain and language, in canonical order."""
    langs = _lang_pool(lang)
    present = {c.category for c in CUE_SENTENCES if domain in c.domains and c.lang in langs}
    return [cat for cat in SPECIAL_CATEGORIES if cat in present]


def cue_sentence(rng: random.Random, domain: str, lang: str, category: str) -> Fragment:
    langs = _lang_pool(lang)
    options = [c for c in CUE_SENTENCES if c.category == category and domain in c.domains and c.lang in langs]
    if not options:
        raise ValueError(f"no {category} cue sentence for domain={domain!r} lang={lang!r}")
    return rng.choice(options).render(rng)


# Topic talk that discloses nothing about anyone: must stay unlabelled.
GENERAL_TALK: dict[tuple[str, str], tuple[str, ...]] = {
    (CLINIC, "tr"): (
        "Diyabet istatistikleri son yıllarda çok arttı diye okudum; check-up paketinizde HbA1c testi var mı?",
        "Yeni açılan onkoloji bölümünüz hafta sonu da hizmet veriyor mu?",
        "Kliniğinizde genetik danışmanlık birimi var mı, genel olarak süreç nasıl işliyor?",
        "Ramazan ayında poliklinik saatleriniz değişiyor mu?",
        "Haberlerde HIV vakalarının arttığı söyleniyor, kliniğinizde anonim test yapılıyor mu?",
    ),
    (CLINIC, "en"): (
        "I read that the clinic has a new oncology wing. Is it open on weekends?",
        "Do you offer HIV testing to the public, and how long do results usually take?",
        "Is the diabetes awareness seminar next month open to everyone?",
    ),
    (BANK, "tr"): (
        "Ramazan ayında şubelerinizin çalışma saatleri değişiyor mu?",
        "Haberlerde sendikaların maaş promosyonu pazarlığı yaptığını okudum; kurumlara promosyon veriyor musunuz?",
        "Seçimden sonra kurlar çok oynadı, döviz hesabı açmak mantıklı mı?",
        "Parmak izi ile ödeme özelliği uygulamaya ne zaman gelecek?",
        "Katılım bankacılığı ile klasik bankacılık arasındaki fark nedir?",
    ),
    (BANK, "en"): (
        "Do branches keep different hours during Ramadan?",
        "Is the new fingerprint login feature available for all customers?",
    ),
    (SHOP, "tr"): (
        "Ramazan kolilerinizde hangi ürünler var?",
        "Tesettür giyim kategorinize yeni sezon ürünleri ne zaman gelecek?",
        "Glutensiz ürünleriniz çölyak derneği onaylı mı?",
        "Vegan ürünler için ayrı bir kategori var mı?",
    ),
    (SHOP, "en"): (
        "Do you have a halal food section?",
        "Is there a vegan section in the grocery store?",
    ),
}


def general_sentence(rng: random.Random, domain: str, lang: str) -> str:
    return rng.choice(GENERAL_TALK[(domain, "en" if lang == "en" else "tr")])
