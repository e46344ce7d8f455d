"""The Turkish name recognizer (pipeline/scan/names.py): recall, precision, and the rules."""

from __future__ import annotations

import sys

import pytest
from conftest import presidio_engine_with
from presidio_analyzer import RecognizerResult

from pipeline.entities import PERSON
from pipeline.scan import names
from pipeline.lexicons import LEXICON_DIR
from pipeline.lexicons import gazetteer
from pipeline.lexicons.gazetteer import build_ambiguity_list, load_gazetteer
from pipeline.scan.names import TurkishNameRecognizer
from pipeline.text import APOSTROPHES, tr_lower


@pytest.fixture(scope="module")
def recognizer() -> TurkishNameRecognizer:
    return TurkishNameRecognizer()


def person_spans(recognizer: TurkishNameRecognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, [PERSON])]


def person_scores(recognizer: TurkishNameRecognizer, text: str) -> dict[str, float]:
    return {text[r.start : r.end]: r.score for r in recognizer.analyze(text, [PERSON])}


# Realistic support-desk sentences (bank, e-commerce, clinic) with no person in them. Many
# contain words that are also names ("Deniz", "Umut", "Can", "Barış", "Güneş", "Kaya",
# "Demir", "Altın", "Harika", "Metin", "Emin", "Çağrı", "Sefer"), cities and districts
# ("Ankara", "Aydın", "Kartal", "Fatih"), brands ("Garanti", "Ülker", "Pınar", "Aras Kargo",
# "Koç Holding"), months and weekdays, UI labels and ALL-CAPS notices.
PII_FREE_SUPPORT_SENTENCES = [
    'Merhaba, kartım çalındı ve yeni kart istiyorum.',
    'Siparişim nerede? Kargo takip numarası nedir?',
    'Randevumu ertelemek istiyorum, uygun saat var mı?',
    'Garanti BBVA mobil uygulamasından havale yapamıyorum.',
    'Akbank kredi kartımın limitini artırmak istiyorum.',
    'Türk Telekom faturamı otomatik ödemeye bağlamak istiyorum.',
    'Yapı Kredi şubesine gitmeden hesap açabilir miyim?',
    'İzmir Alsancak şubeniz cumartesi açık mı?',
    "Ankara'dan İstanbul'a gönderilen kargom hâlâ gelmedi.",
    'Deniz kenarında bir otel için rezervasyon yapmak istiyorum.',
    'Umut ediyorum ki sorun bugün çözülür.',
    'Can sıkıcı bir durum yaşadım, ürün kırık geldi.',
    'Barış içinde çözülmesini istiyoruz, iade talebim var.',
    'Güneş kremi siparişim eksik geldi.',
    'Yıldız kampanyası ne zaman bitiyor?',
    'Kaya tuzu ürününüz stokta var mı?',
    'Demir takviyesi reçetemde yazıyor ama eczanede yok.',
    'Altın hesabımdan gümüş hesabına geçiş yapabilir miyim?',
    'Harika, teşekkürler! Sorunum çözüldü.',
    'Şu anda sistemde bir yoğunluk var, lütfen bekleyin.',
    'Aras Kargo ile gönderildi, yarın teslim edilecek.',
    "Özel Deniz Hastanesi'nde göz muayenesi için randevu almak istiyorum.",
    'Eylül ayında vadeli hesabımın faizi ne kadar olacak?',
    "Cuma günü saat 14:00'te kliniğinize gelebilirim.",
    '29 Ekim Cumhuriyet Bayramı nedeniyle şubelerimiz kapalıdır.',
    'Ramazan Bayramı boyunca kargo teslimatları gecikebilir.',
    'Sanal kartımı nasıl oluştururum?',
    'Faiz oranı neden değişti?',
    'Metin kutusuna kampanya kodunu yazdım ama kabul etmedi.',
    'Emin misiniz? Siparişi iptal edersem iade ne zaman yatar?',
    'Hediye çeki ile ödeme yapılabiliyor mu?',
    'Çağrı merkezinize ulaşamıyorum, sürekli meşgul çalıyor.',
    'Sefer saatim değişmiş, bilet iadesi alabilir miyim?',
    'Hadi bakalım, bir de bunu deneyelim.',
    'Doktor bey tahlil sonuçlarımı ne zaman görebilirim?',
    'Sayın Müşterimiz, ekstreniz e-posta adresinize gönderilmiştir.',
    'Değerli müşterimiz, şifreniz başarıyla değiştirildi.',
    'Hesabım sayfasında Siparişlerim sekmesi görünmüyor.',
    'Sepete Ekle butonu çalışmıyor.',
    "Aydın'da oturuyorum, en yakın şube nerede?",
    'Kartal şubesine havale yaptım.',
    "Fatih'teki mağazanızdan aldığım ürünü iade etmek istiyorum.",
    'Ülker çikolatalı gofret siparişimde eksik çıktı.',
    'Pınar süt ürünleri kampanyada mı?',
    'Koç Holding hisselerini alabilir miyim?',
    'Yıldırım kargo ile mi gelecek, normal kargo ile mi?',
    'Bahar indirimleri ne zaman başlıyor?',
    'Tatlı siparişim soğuk geldi.',
    'Özgür bir ortamda çalışmak istiyorum, iş ilanlarınıza nereden bakabilirim?',
    'Onur duydum, teşekkür ederim.',
    'Kalp sağlığı taraması paketi fiyatı nedir?',
    'Bu hafta Pazartesi ve Salı günleri kapalıyız.',
    'Kadıköy ve Üsküdar şubelerimiz yenilendi.',
    'Güven veren hizmetiniz için teşekkürler.',
    'Dilek ve şikayet formunu doldurdum.',
    'Gece yarısı yapılan işlemler ertesi gün hesaba geçer.',
    'Temel paket ile Altın paket arasındaki fark nedir?',
    'Okay, I will wait for the courier.',
    'Can you tell me when my order will arrive?',
    'Hello, I would like to change my delivery address.',
    'MÜŞTERİ HİZMETLERİ: KARTINIZ KARGOYA VERİLMİŞTİR.',
    'ALTIN HESAP FAİZ ORANLARI GÜNCELLENDİ.',
    'Ödeme Yardım Merkezi üzerinden başvuru yapabilirsiniz.',
    "Trendyol siparişim Hepsiburada'dan daha hızlı geldi.",
    'Akdeniz ve Ege bölgesine kargo süresi 2 gündür.',
    'Dicle Elektrik faturamı nereden ödeyebilirim?',
    "Ziraat Bankası ATM'sinden para çektim ama hesaptan iki kez düştü.",
    'Göz muayenesi için Cumartesi sabahı uygun mu?',
    'Gül suyu siparişim kırık şişe ile geldi.',
    'Nilüfer ilçesine teslimat yapıyor musunuz?',
    "Sayın Müşterimiz, kartınız hazır.",
    "Değerli Üyemiz, puanlarınız yüklendi.",
    "Sayın Yetkili, faturamı alamadım.",
    "Sayın Bay, başvurunuz alındı.",
    "Merhaba Arkadaşlar, kampanya başladı!",
    "Müdür Bey ile görüşmek istiyorum.",
    "Babam şeker hastası, evde bakım var mı?",
    "Kürt kökenliyim, annem Türkçe bilmiyor.",
    "İyi günler, Tabii. Siparişinizi kontrol ettim.",
    "Şirketimiz adına ticari hesap açmak istiyoruz.",
    "İyi günler, faturanız Kuzey Mobilya adına kesildi.",
    "Done. I've added a note to your order.",
    "I'm Jewish and keep Shabbat.",
    "Her zaman somut bir sonraki adım öner.",
    "Adresim Kazım Karabekir Mahallesi, Fevzi Çakmak Caddesi No: 5",
    "38180 Talas/Kayseri adresine gönderin.",
    "Ekstreleriniz leyla.turkmen72@ornekmail.com adresine gidecek.",
    "Ben Alevi'yim, cemevine gidiyorum.",
    "Gazi Osman Paşa Mah. Yıldız Sk. No 4 adresine gelsin.",
]

NAME_SENTENCES = [
    ('Ahmet Yılmaz siparişini iptal etti.', ['Ahmet Yılmaz']),
    ('Ayşe Nur Demir bugün aradı.', ['Ayşe Nur Demir']),
    ('AHMET YILMAZ adına kayıtlı kart kayboldu.', ['AHMET YILMAZ']),
    ("Mehmet Bey'e ilettim.", ['Mehmet']),
    ('Zeynep Hanım randevusunu erteledi.', ['Zeynep']),
    ('Sayın Ali Kaya, başvurunuz alındı.', ['Ali Kaya']),
    ('Dr. Elif Şahin yarın muayene edecek.', ['Elif Şahin']),
    ('Av. Kerem Aydın ile görüştük.', ['Kerem Aydın']),
    ('Prof. Dr. Hasan Öztürk konsültasyona gelecek.', ['Hasan Öztürk']),
    ('Uzm. Dr. Selin Koç yarın izinli.', ['Selin Koç']),
    ('Hemşire Fatma sizi arayacak.', ['Fatma']),
    ("Ayşe'nin kartı bloke oldu.", ['Ayşe']),
    ('Evrakı Ahmet Yılmaz’a gönderdik.', ['Ahmet Yılmaz']),
    ('ben ayşe yılmaz, kartım kayboldu', ['ayşe yılmaz']),
    ('adım mehmet, sipariş numaram 1234', ['mehmet']),
    ('ahmet bey dün aradı', ['ahmet']),
    ('Merhaba Ayşe, nasılsınız?', ['Ayşe']),
    ('merhaba ben umut, siparişim gelmedi', ['umut']),
    ('Kaya Bey geldi mi?', ['Kaya']),
    ('My name is Ayşe Kaya and I need help.', ['Ayşe Kaya']),
    ('Ayse Yilmaz adina kayitli hesap', ['Ayse Yilmaz']),
    ('Bugün Barış Güneş ile görüştüm.', ['Barış Güneş']),
    ("Deniz Hanım'ın siparişi hazır.", ['Deniz']),
    ('Benim adım Deniz, kartım çalındı.', ['Deniz']),
    ('Merhaba, ben Can. Şifremi unuttum.', ['Can']),
    ('Mustafa Kemal Çelik hesap açmak istiyor.', ['Mustafa Kemal Çelik']),
    ("Fatma Gül Şen'in randevusu iptal edildi.", ['Fatma Gül Şen']),
    ("Emine Teyze'nin ilaçları hazır.", ['Emine']),
    ('Hüseyin Abi kargoyu teslim aldı.', ['Hüseyin']),
    ('İbrahim Usta klimayı tamir etti.', ['İbrahim']),
    ('Elif ile Zeynep aynı gün geldi.', ['Elif', 'Zeynep']),
    ('Sn. Murat Arslan, ödemeniz alınmıştır.', ['Murat Arslan']),
    ('Op. Dr. Burak Doğan ameliyata girdi.', ['Burak Doğan']),
    ("Doç. Dr. Gizem Aksoy'un muayenesi 10:00'da.", ['Gizem Aksoy']),
    ('Ödemeyi Emre Kılıç yaptı.', ['Emre Kılıç']),
    ('Kartın sahibi Hatice Arslan, ben kızıyım.', ['Hatice Arslan']),
    ('Siparişi eşim Yusuf Aydın teslim alacak.', ['Yusuf Aydın']),
    ("Dün Serkan'la konuştum.", ['Serkan']),
    ('mehmet ali yılmaz adına fatura kesilsin', ['mehmet ali yılmaz']),
    ('adı soyadı: Eylül Kara', ['Eylül Kara']),
    ('Ad Soyad: ÖMER FARUK YILDIZ', ['ÖMER FARUK YILDIZ']),
    ('Sevgili Burcu, kampanyamıza katıldığınız için teşekkürler.', ['Burcu']),
    ('Dear Kemal, your appointment is confirmed.', ['Kemal']),
    ('Hi Zeynep! Your order has shipped.', ['Zeynep']),
    ('this is Onur Aksoy from the support team', ['Onur Aksoy']),
    ('Mr. Kaya asked for a refund.', ['Kaya']),
    ('selam ben tuğba kartım çalışmıyor', ['tuğba']),
    ('Teşekkürler Gökhan, iyi günler.', ['Gökhan']),
    ('Cem Yılmaz ve Ayşe Kara aynı adreste oturuyor.', ['Cem Yılmaz', 'Ayşe Kara']),
    ("Zehra'ya ulaşamadım, telefonunu açmıyor.", ['Zehra']),
    ("Bunu Umut'a sorun, o biliyor.", ['Umut']),
    ('Yöneticiniz Levent Bey ile görüşmek istiyorum.', ['Levent']),
    ("Eymen'in okul taksidi ödendi.", ['Eymen']),
    ('Hasta Abdullah Koç taburcu edildi.', ['Abdullah Koç']),
    ('Rezervasyon Selin Yıldız adına yapıldı.', ['Selin Yıldız']),
    ('Teşekkürler Pirahmet Bey, iyi günler.', ['Pirahmet']),
    ("Ümmahan Hanım'ın randevusu iptal edildi.", ['Ümmahan']),
    ('Uzm. Dr. Özalpsan Yaşar için randevu var mı?', ['Özalpsan Yaşar']),
    ('Adım Güllühan Şimşek, TC kimlik no ekte.', ['Güllühan Şimşek']),
    ('Merhaba, ben Laika Yıldız. Kartım çalındı.', ['Laika Yıldız']),
    ('yarın prof. dr. ganiye akbulut ile randevum var', ['ganiye akbulut']),
    ('Eşim Karlukhan Ceylan benim yerime alabilir.', ['Karlukhan Ceylan']),
    ('Evde yoksam komşum Şehamet Kaplan teslim alabilir.', ['Şehamet Kaplan']),
    ('Pasta Ltd. Şti. muhasebesinden Pirahmet Çalışkan yazıyorum.', ['Pirahmet Çalışkan']),
    ('evet, alıcı kavurt bektaş, kendisi kardeşim.', ['kavurt bektaş']),
    ('iyi günler, ben gülbiye karakaya. hesabımdan para gitti', ['gülbiye karakaya']),
    ('Vezrife Yıldırım, TC numaram ekte.', ['Vezrife Yıldırım']),
    ("Pastaya 'İyi ki doğdun Turcein!' yazabilir misiniz?", ['Turcein']),
    ('Adım Derya Bal.', ['Derya Bal']),
    ('Kefilim babam Onur Irmak. Yeni aracın plakası da var.', ['Onur Irmak']),
    ('Name: Leah Williams, address below.', ['Leah Williams']),
]

@pytest.mark.parametrize("sentence", PII_FREE_SUPPORT_SENTENCES)
def test_pii_free_support_sentence_has_no_person(recognizer, sentence):
    assert person_spans(recognizer, sentence) == []


def test_corpora_are_large_enough():
    assert len(PII_FREE_SUPPORT_SENTENCES) >= 30
    assert len(NAME_SENTENCES) >= 40


@pytest.mark.parametrize("sentence, expected", NAME_SENTENCES)
def test_name_sentence_yields_exactly_the_names(recognizer, sentence, expected):
    assert person_spans(recognizer, sentence) == expected


# --- the rules one by one ---------------------------------------------------------------


def test_full_name_scores_higher_than_a_lone_given_name(recognizer):
    assert person_scores(recognizer, "Ahmet Yılmaz aradı.") == {"Ahmet Yılmaz": pytest.approx(0.85)}
    assert person_scores(recognizer, "Dün Ahmet aradı.") == {"Ahmet": pytest.approx(0.6)}


@pytest.mark.parametrize(
    "sentence, name",
    [
        ("Mehmet Bey'e ilettim.", "Mehmet"),
        ("Zeynep Hanım randevusunu erteledi.", "Zeynep"),
        ("Sayın Ali Kaya, başvurunuz alındı.", "Ali Kaya"),
        ("Dr. Elif Şahin yarın muayene edecek.", "Elif Şahin"),
        ("Prof. Dr. Hasan Öztürk konsültasyona gelecek.", "Hasan Öztürk"),
        ("Uzm. Dr. Selin Koç yarın izinli.", "Selin Koç"),
        ("Av. Kerem Aydın ile görüştük.", "Kerem Aydın"),
        ("Hemşire Fatma sizi arayacak.", "Fatma"),
        ("İbrahim Usta klimayı tamir etti.", "İbrahim"),
    ],
)
def test_honorific_is_not_part_of_the_span_and_scores_high(recognizer, sentence, name):
    assert person_scores(recognizer, sentence) == {name: pytest.approx(0.9)}


@pytest.mark.parametrize("apostrophe", list(APOSTROPHES))
def test_name_with_apostrophe_suffix_excludes_suffix(recognizer, apostrophe):
    assert person_spans(recognizer, f"Ayşe{apostrophe}nin kartı bloke oldu.") == ["Ayşe"]
    assert person_spans(recognizer, f"Evrakı Ahmet Yılmaz{apostrophe}a gönderdik.") == ["Ahmet Yılmaz"]


def test_apostrophe_ends_a_run_of_names(recognizer):
    assert person_spans(recognizer, "Ayşe'nin Mehmet ile işi var.") == ["Ayşe", "Mehmet"]


def test_english_contraction_is_not_a_turkish_case_suffix(recognizer):
    assert person_spans(recognizer, "I Can't find my order.") == []
    assert person_spans(recognizer, "Ali's order is late.") == ["Ali"]


def test_capitalised_ambiguous_name_with_case_suffix_mid_sentence_is_a_name(recognizer):
    assert person_scores(recognizer, "Bunu Umut'a sorun, o biliyor.") == {"Umut": pytest.approx(0.6)}
    assert person_spans(recognizer, "Umut'a söyledim.") == []  # sentence-initial: no evidence
    assert person_spans(recognizer, "Kargo Aydın'a gitti.") == []  # a place, not only a word


def test_several_given_names_and_a_surname_are_one_person(recognizer):
    assert person_spans(recognizer, "Ayşe Nur Demir bugün aradı.") == ["Ayşe Nur Demir"]
    assert person_spans(recognizer, "Mustafa Kemal Çelik hesap açmak istiyor.") == ["Mustafa Kemal Çelik"]


def test_all_caps_full_name_is_found(recognizer):
    assert person_spans(recognizer, "AHMET YILMAZ adına kayıtlı kart") == ["AHMET YILMAZ"]
    assert person_spans(recognizer, "Ad Soyad: ÖMER FARUK YILDIZ") == ["ÖMER FARUK YILDIZ"]


def test_all_caps_text_of_ambiguous_words_is_not_a_name(recognizer):
    assert person_spans(recognizer, "DENİZ YILDIZ KAMPANYASI BAŞLADI") == []
    assert person_spans(recognizer, "ALTIN HESAP FAİZ ORANLARI GÜNCELLENDİ.") == []


def test_two_capitalised_ambiguous_names_mid_sentence_are_a_name_with_lower_score(recognizer):
    assert person_scores(recognizer, "Bugün Barış Güneş ile görüştüm.") == {"Barış Güneş": pytest.approx(0.75)}


def test_turkish_casefolding_dotted_and_dotless_i(recognizer):
    assert person_spans(recognizer, "İBRAHİM IŞIK adına fatura") == ["İBRAHİM IŞIK"]
    assert person_spans(recognizer, "Sayın İsmail Işık") == ["İsmail Işık"]
    assert person_spans(recognizer, "adım ismail") == ["ismail"]


def test_names_typed_without_turkish_letters_are_found(recognizer):
    assert person_spans(recognizer, "Ayse Yilmaz adina kayitli hesap") == ["Ayse Yilmaz"]
    assert person_spans(recognizer, "adim sukru") == ["sukru"]


def test_lowercase_name_needs_a_cue_or_two_unambiguous_names(recognizer):
    assert person_spans(recognizer, "ayşe aradı") == []
    assert person_spans(recognizer, "ahmet yılmaz aradı") == []  # "yılmaz" is also a word
    assert person_scores(recognizer, "ayşe arslan aradı") == {"ayşe arslan": pytest.approx(0.8)}
    assert person_spans(recognizer, "mehmet ali yılmaz adına fatura kesilsin") == ["mehmet ali yılmaz"]
    assert person_scores(recognizer, "adım ayşe") == {"ayşe": pytest.approx(0.9)}
    assert person_scores(recognizer, "ahmet bey dün aradı") == {"ahmet": pytest.approx(0.9)}
    assert person_spans(recognizer, "ben ayşe yılmaz, kartım kayboldu") == ["ayşe yılmaz"]


def test_ben_cue_needs_the_name_to_end_the_phrase(recognizer):
    assert person_spans(recognizer, "ben umut ediyorum ki sorun çözülür") == []
    assert person_spans(recognizer, "merhaba ben umut, siparişim gelmedi") == ["umut"]


def test_ambiguous_given_name_alone_is_not_a_person(recognizer):
    for sentence in ("Umut ediyoruz ki yardımcı olabildik.", "Deniz kenarında otel var mı?", "bugün Umut ile konuştum"):
        assert person_spans(recognizer, sentence) == [], sentence


@pytest.mark.parametrize(
    "sentence, name",
    [
        ("Benim adım Deniz, kartım çalındı.", "Deniz"),
        ("Deniz Hanım'ın siparişi hazır.", "Deniz"),
        ("Merhaba, ben Can. Şifremi unuttum.", "Can"),
        ("Selam Umut! Kargon yolda.", "Umut"),
        ("Sayın Kaya, ödemeniz alındı.", "Kaya"),
    ],
)
def test_ambiguous_name_with_cue_or_honorific_is_a_person(recognizer, sentence, name):
    assert person_spans(recognizer, sentence) == [name]


def test_greeting_needs_the_name_to_end_the_phrase(recognizer):
    assert person_spans(recognizer, "Merhaba Deniz,") == ["Deniz"]
    assert person_spans(recognizer, "Merhaba deniz kenarındaki şube açık mı?") == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Koç Holding hisselerini alabilir miyim?",
        "Aras Kargo ile gönderildi.",
        "Özel Deniz Hastanesi'nde randevum var.",
        "Ahmet Yılmaz Caddesi No: 4 adresine gönderin.",
        "Kemal Paşa Mahallesi 12. Sokak",
        "Mehmet Akif Ersoy Üniversitesi öğrencisiyim.",
    ],
)
def test_organisation_or_address_word_after_a_name_cancels_it(recognizer, sentence):
    assert person_spans(recognizer, sentence) == []


def test_organisation_word_in_lower_case_does_not_cancel_a_name(recognizer):
    assert person_spans(recognizer, "Hüseyin Abi kargoyu teslim aldı.") == ["Hüseyin"]
    assert person_spans(recognizer, "Ahmet Yılmaz kargo ile gönderdi.") == ["Ahmet Yılmaz"]


def test_adim_is_a_name_cue_only_where_it_cannot_be_a_step(recognizer):
    assert person_spans(recognizer, "Adım Öner, size nasıl yardımcı olabilirim?") == ["Öner"]
    assert person_spans(recognizer, "Her zaman somut bir sonraki adım öner.") == []
    assert person_spans(recognizer, "Merhaba, adım Deniz.") == ["Deniz"]


@pytest.mark.parametrize(
    "sentence, name, rule",
    [
        ("Teşekkürler Pirahmet Bey.", "Pirahmet", "anchored_unknown"),
        ("Sayın Soyselçuk Koç, talebiniz alındı.", "Soyselçuk Koç", "anchored_unknown"),
        ("Uzm. Dr. Özalpsan Yaşar yarın izinli.", "Özalpsan Yaşar", "anchored_unknown"),
        ("Müşteri hizmetlerinden Pirahmet Çalışkan yazıyorum.", "Pirahmet Çalışkan", "unknown_given_name"),
    ],
)
def test_name_the_gazetteer_does_not_know_is_found_from_its_anchor(recognizer, sentence, name, rule):
    [result] = recognizer.analyze(sentence, [PERSON])
    assert (sentence[result.start : result.end], result.recognition_metadata["rule"]) == (name, rule)


@pytest.mark.parametrize(
    "sentence",
    ["Sayın Müşterimiz,", "Sayın Yetkili,", "Değerli Üyemiz,", "Müdür Bey geldi.", "Merhaba Arkadaşlar!", "Sayın Bay,"],
)
def test_roles_after_an_anchor_are_not_names(recognizer, sentence):
    assert person_spans(recognizer, sentence) == []


def test_weak_anchor_does_not_take_a_common_word_but_a_strong_one_does(recognizer):
    assert person_spans(recognizer, "Merhaba Dünya!") == []  # greeting + a common word
    assert person_spans(recognizer, "Adım Derya Bal.") == ["Derya Bal"]  # "bal" is honey, but after "Adım"


def test_lower_case_after_an_anchor_must_end_on_a_surname(recognizer):
    assert person_spans(recognizer, "eşim paker kaan aksu benim yerime alabilir mi") == ["paker kaan aksu"]
    assert person_spans(recognizer, "babam şeker hastası, evde bakım var mı") == []


def test_name_inside_an_email_address_is_not_a_person(recognizer):
    assert person_spans(recognizer, "Adresim ayse.yilmaz@ornek.com olarak kayıtlı.") == []
    assert person_spans(recognizer, "Ayşe Yılmaz <ayse@ornek.com>") == ["Ayşe Yılmaz"]


def test_town_in_an_address_is_not_a_person(recognizer):
    assert person_spans(recognizer, "38180 Talas Kayseri") == []
    assert person_spans(recognizer, "No:70/21 Talas - Kayseri, telefon 0532") == []
    assert person_spans(recognizer, "Ahmet Yılmaz Ankara'da yaşıyor.") == ["Ahmet Yılmaz"]


def test_street_named_after_a_person_is_not_a_person(recognizer):
    assert person_spans(recognizer, "Adresim Fevzi Çakmak Caddesi No: 5") == []
    assert person_spans(recognizer, "gazi osman paşa mah. yıldız sk.") == []


def test_overlapping_rules_give_one_span(recognizer):
    assert person_spans(recognizer, "Sayın Laika Yıldız Hanım, hoş geldiniz.") == ["Laika Yıldız"]


# --- the result objects -----------------------------------------------------------------


def test_results_name_the_recognizer_and_the_rule(recognizer):
    [result] = recognizer.analyze("Sayın Ali Kaya", [PERSON])
    assert isinstance(result, RecognizerResult)
    assert result.entity_type == PERSON
    assert result.recognition_metadata[RecognizerResult.RECOGNIZER_NAME_KEY] == "TurkishNameRecognizer"
    assert result.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] == recognizer.id
    assert result.recognition_metadata["rule"] == "honorific"
    assert result.analysis_explanation.recognizer == "TurkishNameRecognizer"


def test_other_entities_requested_gives_nothing(recognizer):
    assert recognizer.analyze("Ahmet Yılmaz aradı.", ["EMAIL_ADDRESS"]) == []


def test_supported_language_is_configurable():
    assert TurkishNameRecognizer().supported_language == "en"
    assert TurkishNameRecognizer(supported_language="tr").supported_language == "tr"


# --- the gazetteer and the ambiguity list -----------------------------------------------


def test_gazetteer_is_built_once_per_process():
    first = load_gazetteer()
    TurkishNameRecognizer()
    TurkishNameRecognizer()
    assert load_gazetteer() is first
    assert load_gazetteer.cache_info().misses == 1


def test_gazetteer_reads_the_ayikla_files_without_importing_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "ayikla", None)  # any "import ayikla" now raises ImportError
    given, surnames = gazetteer._name_sets()
    assert len(given) > 2000 and len(surnames) > 3000


def test_gazetteer_has_the_common_names_and_surnames():
    gazetteer = load_gazetteer()
    for given in ("ahmet", "ayşe", "mehmet", "zeynep", "nur", "eymen", "ömer", "ibrahim"):
        assert gazetteer.lookup(given).given, given
    for surname in ("yılmaz", "kaya", "demir", "şahin", "öztürk", "aydın", "arslan"):
        assert gazetteer.lookup(surname).surname, surname


def test_stoplisted_words_are_not_in_the_gazetteer():
    for word in ("cuma", "ekim", "ocak", "başkan", "birlik", "ceza"):
        assert load_gazetteer().lookup(word) is None, word


@pytest.mark.parametrize(
    "name, reason",
    [("deniz", "word"), ("umut", "word"), ("gül", "word"), ("can", "word"), ("yılmaz", "word"),
     ("barış", "word"), ("harika", "word"), ("aydın", "place"), ("bingöl", "place"), ("ülker", "brand")],
)
def test_names_that_are_common_words_places_or_brands_are_ambiguous(name, reason):
    assert load_gazetteer().lookup(name).ambiguity == reason


def test_ordinary_names_are_not_ambiguous():
    for name in ("ahmet", "ayşe", "mehmet", "zeynep", "elif", "hatice", "kerem"):
        assert load_gazetteer().lookup(name).ambiguity is None, name


def test_ascii_fold_of_a_common_word_makes_the_name_ambiguous():
    # "Önay" folds to "onay" (approval, a UI button)
    assert load_gazetteer().lookup("onay").ambiguity == "word"


def test_ambiguity_list_file_is_in_step_with_its_inputs():
    on_disk = [
        tuple(line.split("\t"))
        for line in (LEXICON_DIR / gazetteer.AMBIGUITY_FILE).read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert on_disk == build_ambiguity_list(), "run pipeline.lexicons.gazetteer.write_ambiguity_list() after editing a lexicon"


def test_ambiguity_list_is_lower_case_turkish():
    for name, _ in build_ambiguity_list():
        assert name == tr_lower(name)


# --- speed and Presidio -----------------------------------------------------------------


def test_a_megabyte_of_text_is_analysed_whole(recognizer):
    # Behaviour only: the speed is measured by bench/recognizer_speed.py, never asserted here.
    text = " ".join(PII_FREE_SUPPORT_SENTENCES + [s for s, _ in NAME_SENTENCES])
    text = (text + "\n") * (1_000_000 // len(text) + 1)
    found = recognizer.analyze(text, [PERSON])
    assert len(found) > 1000


def test_works_inside_a_presidio_analyzer_engine():
    engine = presidio_engine_with(TurkishNameRecognizer())
    text = "Sayın Ayşe Nur Demir, siparişiniz Aras Kargo'ya verildi."
    found = [(text[r.start : r.end], r.entity_type, r.score) for r in engine.analyze(text, language="en")]
    assert found == [("Ayşe Nur Demir", PERSON, pytest.approx(0.9))]


# -- rules 6-8 and role anchors: names the gazetteer does not know, from their shape -------

@pytest.mark.parametrize(
    "sentence, name, rule",
    [
        # rule 6 with a case suffix: the apostrophe marks a proper noun even at a clause start
        ("İşlem kaydını inceledik; Simber Gezer'in hesabına giden transfer", "Simber Gezer", "unknown_given_name"),
        ("Dün Faize Kara'nın kartı bloke oldu.", "Faize Kara", "unknown_given_name"),
        # rule 7: a known given name + an unknown capitalised word that ends the name
        ("Dosyayı Serkan Öztaşlı'ya ilettik.", "Serkan Öztaşlı", "known_given_unknown_surname"),
        ("Evrakı Mehmet Gürsoylu teslim aldı.", "Mehmet Gürsoylu", "known_given_unknown_surname"),
        # rule 8: in brackets after an account number, or a signature
        ("Para iadesi için IBAN: TR050005908941675575512380 (Ramadan Kalkan).", "Ramadan Kalkan", "parenthesised_name"),
        ("iade için ıban: tr65 0001 5038 9681 8385 5307 50 (hasgül kılıç).", "hasgül kılıç", "parenthesised_name"),
        ("Kayıt yapabilir misiniz? Nevgin Kalkan", "Nevgin Kalkan", "standalone_name"),
        ("doğum tarihi: 18.10.1977. habibe sultan ceylan", "habibe sultan ceylan", "standalone_name"),
        ("randevumu ertelemem lazım. zebirce arslan, tc 56080026928.", "zebirce arslan", "standalone_name"),
        ("Gönderebilir misiniz? Feyzin Yüksel. Ayrıca bir sorum var.", "Feyzin Yüksel", "standalone_name"),
        # role anchors
        ("Şirketimizin yetkili HURİCAN AYDIN.", "HURİCAN AYDIN", "anchored_unknown"),
        ("ortağımız pınar bulut sizi arayacak", "pınar bulut", "anchored_unknown"),
        ("Ege Gıda A.Ş. muhasebesinden Merim Gül Demir. Vergi no ekte.", "Merim Gül Demir", "anchored_unknown"),
        ("Ben muhasebeden Nebih Kalaycı.", "Nebih Kalaycı", "anchored_unknown"),
        ("IBAN TR88 0001 0004 3317 8793 2895 60, account holder Ginyas Korkmaz.", "Ginyas Korkmaz", "anchored_unknown"),
    ],
)
def test_unknown_name_is_found_from_its_shape_or_role(recognizer, sentence, name, rule):
    results = recognizer.analyze(sentence, [PERSON])
    assert [sentence[r.start : r.end] for r in results] == [name]
    assert results[0].recognition_metadata["rule"] == rule


@pytest.mark.parametrize(
    "sentence",
    [
        "Yetkili servis gelsin, cihaz bozuk.",
        "Yetkili Servis listesini gönderir misiniz?",
        "Ankara Şubesi cumartesi açık mı?",
        "Ödeme 3000 TL (Garanti BBVA) üzerinden yapıldı.",
        "Toplam tutar 1.250 TL (KDV dahil).",
        "Fatura 450 TL (Kargo Ücreti) içeriyor.",
        "Kara Kuvvetleri Komutanlığı ile ilgili bir sorum var.",
        "Tamam. Teşekkürler.",
        "Siparişim gelmedi. İyi çalışmalar.",
        "Kolay gelsin. Bekliyorum.",
        "ayşe aradı",
        "Güzel Kara.",
        "Ortağımız Anadolu Sigorta ile çalışıyoruz.",
        "Hesap sahibi ben değilim, annem.",
        "Talas Kayseri",
        "Kredi kartı 4000 (Yapı Kredi) ile ödendi.",
    ],
)
def test_shape_rules_leave_common_phrases_alone(recognizer, sentence):
    assert person_spans(recognizer, sentence) == []


def test_role_word_does_not_anchor_a_lowercase_non_name(recognizer):
    assert person_spans(recognizer, "yetkili kişi yarın arayacak") == []
    assert person_spans(recognizer, "yetkili levent başaran yarın arayacak") == ["levent başaran"]


def test_standalone_name_must_end_the_message_or_sign_off(recognizer):
    # the same two words mid-sentence, followed by more text, are not a signature
    assert person_spans(recognizer, "Nevgin Kalkan bugün geldi mi") in ([], ["Nevgin Kalkan"])
    assert person_spans(recognizer, "Siparişim nerede? Nevgin Kalkan") == ["Nevgin Kalkan"]


def test_honorific_after_a_known_given_name_is_not_a_surname(recognizer):
    assert person_spans(recognizer, "Emine Teyze'nin ilaçları hazır.") == ["Emine"]


# -- role cues, form fields, initials, hyphens, signatures, frames (rules 5, 9-11) --------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sorumlu: Hemşire Olcay Dirlik vardiyada", ["Olcay Dirlik"]),
        ("Öğrenci: Melis Karagöz 9/C sınıfında", ["Melis Karagöz"]),
        ("Tenant: Augustin Pelletier | Unit 4", ["Augustin Pelletier"]),
        ("patient Heinrich Lorbeer was admitted", ["Heinrich Lorbeer"]),
        ("Sanık Fikret Çağlar duruşmaya gelmedi", ["Fikret Çağlar"]),
    ],
)
def test_role_cue_and_form_field_name(recognizer, text, expected):
    assert person_spans(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Patient Safety team met on Monday",
        "Yetkili Servis randevusu alındı",
        "müşteri hesabı kara listeye aldı",
        "Customer Experience survey results are in",
    ],
)
def test_role_word_before_non_names_is_not_a_person(recognizer, text):
    assert person_spans(recognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("işlemi onaylayan K. Dinçer oldu", ["K. Dinçer"]),
        ("Dün Selim T. aradı", ["Selim T."]),
        ("Sayın Mehmet Ali Yılmaz-Korkut, merhaba", ["Mehmet Ali Yılmaz-Korkut"]),
    ],
)
def test_initials_and_hyphenated_halves_join_the_name(recognizer, text, expected):
    assert person_spans(recognizer, text) == expected


def test_initial_without_a_name_is_nothing(recognizer):
    assert person_spans(recognizer, "Plan B. devreye girdi, A. seçeneği iptal") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("teşekkürler, çok yardımcı oldunuz - Harun Koçyiğit", ["Harun Koçyiğit"]),
        ("great night everyone - Siobhan Tierney, Galway", ["Siobhan Tierney"]),
        ("Saygılarımla, Elif", ["Elif"]),
    ],
)
def test_signature_at_the_end(recognizer, text, expected):
    assert person_spans(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    ["see you all soon - Best Wishes", "prices rose again - Reuters", "toplantı yarın - Genel Müdürlük"],
)
def test_sign_off_words_are_no_signature(recognizer, text):
    assert person_spans(recognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Consent: I, Agnieszka Quigley, agree to the terms", ["Agnieszka Quigley"]),
        ("we spoke to Margarethe Brandt and her lawyer", ["Margarethe Brandt"]),
        ("Ottoline Pargeter, 47, a retired teacher, said", ["Ottoline Pargeter"]),
        ("Saoirse Ni-Bhriain, who chairs the board, said", ["Saoirse Ni-Bhriain"]),
        ("refund to DE44500105175407324931 (Anke van Houten) please", ["Anke van Houten"]),
    ],
)
def test_foreign_pairs_and_framed_names(recognizer, text, expected):
    assert person_spans(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We thank Microsoft Corp, who funded the study",
        "The Grace Period ends on Friday",
        "I went to Victoria Station yesterday",
        "Bu ürün, Özel Kalem, 12, adet",
    ],
)
def test_framed_and_foreign_pair_rules_skip_non_names(recognizer, text):
    assert person_spans(recognizer, text) == []


def test_foreign_names_list_is_folded_lower_case():
    words = names.read_words("foreign_names.txt")
    assert len(words) > 5000
    assert all(w == w.lower() for w in words)
    assert {"adrián", "adrian"} <= set(words)


def test_lower_case_given_name_with_an_apostrophe_suffix_is_a_name(recognizer):
    # Turkish puts an apostrophe only after a proper noun, so lower-case chat still marks the names
    assert person_spans(recognizer, "yarın nesrin'le kahve içiyoruz, oğuz'a da söyle") == ["nesrin", "oğuz"]
    # an English contraction is no suffix: "can't" is not "Can" (a Turkish given name) + "t"
    assert person_spans(recognizer, "i can't come today") == []
