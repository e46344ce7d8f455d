"""Special categories (pipeline/scan/special.py): a cue attributed to a person is a finding;
the same words in general talk are not."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import presidio_engine_with
from presidio_analyzer import RecognizerResult

from pipeline.entities import SPECIAL_CATEGORIES, special_type
from pipeline.scan.special import CueLexiconError, SpecialCategoryRecognizer, load_cues

ALL = [special_type(c) for c in SPECIAL_CATEGORIES]


@pytest.fixture(scope="module")
def recognizer() -> SpecialCategoryRecognizer:
    return SpecialCategoryRecognizer()


def findings(recognizer, text: str, entities=ALL, nlp_artifacts=None) -> list[tuple[str, str]]:
    """(span text, category) in text order."""
    results = sorted(recognizer.analyze(text, entities, nlp_artifacts), key=lambda r: (r.start, r.entity_type))
    return [(text[r.start : r.end], r.entity_type.removeprefix("SPECIAL:")) for r in results]


# Each: a sentence where someone tells a special-category fact about themselves or a named,
# related or referred-to person, and the exact cue spans expected. Every category has at
# least two Turkish and one English example.
PERSONAL_DISCLOSURES = [
    ('tr', 'Şeker hastasıyım, bu ürünü kullanabilir miyim?', [('Şeker hastasıyım', 'HEALTH')]),
    ('tr', 'ŞEKER HASTASIYIM, şekersiz ürün var mı?', [('ŞEKER HASTASIYIM', 'HEALTH')]),
    ('tr', 'İnsülin kullanıyorum, soğuk zincirle gönderin.', [('İnsülin', 'HEALTH')]),
    ('tr', 'Kemoterapi görüyorum, randevumu erteleyebilir miyim?', [('Kemoterapi', 'HEALTH')]),
    ('tr', 'Annem kanser, tedavisi devam ediyor.', [('kanser', 'HEALTH')]),
    ('tr', 'Eşim hamile, teslimatı hızlandırabilir misiniz?', [('hamile', 'HEALTH')]),
    ('tr', 'Hamileyim, bu ilacı kullanabilir miyim?', [('Hamileyim', 'HEALTH')]),
    ('tr', 'Geçen ay ameliyat oldum, kargoyu kapıya bırakın.', [('ameliyat', 'HEALTH')]),
    ('tr', 'Depresyon tedavisi görüyorum ve antidepresan kullanıyorum.', [('Depresyon', 'HEALTH'), ('antidepresan', 'HEALTH')]),
    ('tr', 'Oğlum epilepsi hastası, ilacı acil lazım.', [('epilepsi', 'HEALTH')]),
    ('tr', 'Babamın diyabeti var.', [('diyabeti', 'HEALTH')]),
    ('tr', 'seker hastasiyim ama tatli yiyebilir miyim', [('seker hastasiyim', 'HEALTH')]),
    ('en', 'I have diabetes and need a sugar-free option.', [('diabetes', 'HEALTH')]),
    ('en', 'My wife is pregnant, please deliver before Friday.', [('pregnant', 'HEALTH')]),
    ('en', 'He is HIV positive and needs his medication refilled.', [('HIV positive', 'HEALTH'), ('medication', 'HEALTH')]),
    ('tr', 'Oruçluyum, siparişi akşam teslim edin.', [('Oruçluyum', 'RELIGION')]),
    ('tr', 'Müslüman olduğum için domuz ürünü istemiyorum.', [('Müslüman', 'RELIGION')]),
    ('tr', 'Aleviyim, cemevine gidiyorum.', [('Aleviyim', 'RELIGION'), ('cemevine', 'RELIGION')]),
    ('en', "I'm Muslim so I need halal options.", [('Muslim', 'RELIGION')]),
    ('tr', 'Ateistim, dini içerikli bildirim istemiyorum.', [('Ateistim', 'PHILOSOPHICAL_BELIEF')]),
    ('tr', 'Ben agnostiğim.', [('agnostiğim', 'PHILOSOPHICAL_BELIEF')]),
    ('en', 'I am an atheist.', [('atheist', 'PHILOSOPHICAL_BELIEF')]),
    ('tr', "CHP'liyim, bunu bilmenizi isterim.", [('CHP', 'POLITICAL_OPINION')]),
    ('tr', 'Partisi üyesiyim ve il başkanlığında çalışıyorum.', [('Partisi üyesiyim', 'POLITICAL_OPINION')]),
    ('tr', 'Son seçimde o partiye oy verdim.', [('oy verdim', 'POLITICAL_OPINION')]),
    ('en', "I'm a party member and volunteer on weekends.", [('party member', 'POLITICAL_OPINION')]),
    ('tr', 'Kürdüm ve bundan gurur duyuyorum.', [('Kürdüm', 'ETHNIC_ORIGIN')]),
    ('tr', 'Ermeni asıllıyım, soyadım bu yüzden farklı.', [('Ermeni', 'ETHNIC_ORIGIN')]),
    ('tr', 'Annem Çerkez, babam Laz.', [('Çerkez', 'ETHNIC_ORIGIN'), ('Laz', 'ETHNIC_ORIGIN')]),
    ('en', 'My father is Armenian.', [('Armenian', 'ETHNIC_ORIGIN')]),
    ('tr', 'Eşcinselim ve eşimle ortak hesap açmak istiyorum.', [('Eşcinselim', 'SEXUAL_LIFE')]),
    ('tr', 'Ben biseksüelim.', [('biseksüelim', 'SEXUAL_LIFE')]),
    ('en', "I'm gay and my partner is on the account too.", [('gay', 'SEXUAL_LIFE')]),
    ('tr', 'Sabıka kaydım var, iş başvurusu yapabilir miyim?', [('Sabıka kaydım', 'CRIMINAL_RECORD')]),
    ('tr', 'Geçen yıl cezaevinden çıktım, kredi alabilir miyim?', [('cezaevinden', 'CRIMINAL_RECORD')]),
    ('tr', 'Kardeşim hüküm giydi.', [('hüküm giydi', 'CRIMINAL_RECORD')]),
    ('en', 'I was convicted of fraud in 2015.', [('convicted', 'CRIMINAL_RECORD')]),
    ('tr', 'Sendika üyesiyim, aidat kesintisi yapılıyor.', [('Sendika üyesiyim', 'UNION_MEMBERSHIP')]),
    ('tr', 'Derneğe üyeyim, bağış makbuzu lazım.', [('Derneğe üyeyim', 'UNION_MEMBERSHIP')]),
    ('en', "I'm a union member and want the discount.", [('union member', 'UNION_MEMBERSHIP')]),
    ('tr', 'Parmak izimi bankaya kaydettim.', [('Parmak izimi', 'BIOMETRIC')]),
    ('tr', 'Yüz tanıma verim silinsin istiyorum.', [('Yüz tanıma verim', 'BIOMETRIC')]),
    ('en', 'My fingerprint data should be deleted.', [('fingerprint', 'BIOMETRIC')]),
    ('tr', 'BRCA testim pozitif çıktı.', [('BRCA testim', 'GENETIC')]),
    ('tr', 'Genetik testimde mutasyon bulundu.', [('Genetik testimde', 'GENETIC')]),
    ('en', 'I did a DNA test and found a gene mutation.', [('DNA test', 'GENETIC'), ('gene mutation', 'GENETIC')]),
    ('tr', 'Başörtülüyüm, vesikalık fotoğraf nasıl olmalı?', [('Başörtülüyüm', 'ATTIRE')]),
    ('tr', 'Kızım türbanlı, okul kıyafeti için soruyorum.', [('türbanlı', 'ATTIRE')]),
    ('en', 'I wear a hijab, is that fine for the ID photo?', [('hijab', 'ATTIRE')]),
    ('tr', 'Ahmet Bey şeker hastası.', [('şeker hastası', 'HEALTH')]),
    ('tr', 'Eşimin kemoterapisi yarın başlıyor.', [('kemoterapisi', 'HEALTH')]),
    ('tr', 'Babam kalp krizi geçirdi, siparişi iptal edin.', [('kalp krizi', 'HEALTH')]),
    ('tr', 'Kızımın otizmi var, sessiz saatlerde gelebilir miyiz?', [('otizmi', 'HEALTH')]),
    ('tr', 'Kendisi epilepsi hastası, lütfen dikkat edin.', [('epilepsi', 'HEALTH')]),
    ('tr', 'Annemin alzheimer teşhisi kondu.', [('alzheimer', 'HEALTH')]),
    ('tr', 'Mahmut Bey HIV pozitif, dosyası gizli tutulsun.', [('HIV pozitif', 'HEALTH')]),
    ('en', 'My son has autism.', [('autism', 'HEALTH')]),
    ('tr', "Hıristiyanım, Paskalya'da teslimat olur mu?", [('Hıristiyanım', 'RELIGION')]),
    ('tr', 'Dindar biriyim, namaz kılıyorum.', [('Dindar', 'RELIGION'), ('namaz', 'RELIGION')]),
    ('tr', 'Babam Rum, annem Ermeni.', [('Rum', 'ETHNIC_ORIGIN'), ('Ermeni', 'ETHNIC_ORIGIN')]),
    ('tr', 'Kardeşim cezaevinde, ona kitap göndermek istiyorum.', [('cezaevinde', 'CRIMINAL_RECORD')]),
    ('tr', 'Amcam denetimli serbestlikte.', [('denetimli serbestlikte', 'CRIMINAL_RECORD')]),
    ('tr', 'Sendikamız bu ay aidatı artırdı.', [('Sendikamız', 'UNION_MEMBERSHIP')]),
    ('tr', 'Talasemi taşıyıcısıyım.', [('Talasemi taşıyıcısıyım', 'GENETIC')]),
    ('tr', 'Türbanlıyım, fotoğraf için başörtümü çıkarmam gerekir mi?', [('Türbanlıyım', 'ATTIRE'), ('başörtümü', 'ATTIRE')]),
    ('tr', 'Etik nedenlerle veganım, hayvansal ürün istemiyorum.', [('veganım', 'PHILOSOPHICAL_BELIEF')]),
    ('tr', 'Yehova Şahidi olduğum için kan nakli istemiyorum.', [('Yehova Şahidi', 'RELIGION')]),
    ('tr', 'Babam felç geçirdi ve yatağa bağlı.', [('felç', 'HEALTH')]),
    ('tr', 'Bu arada kalp pili taşıyorum, doktor bilmeli.', [('kalp pili', 'HEALTH')]),
    ('tr', 'Çarşaflı olduğum için kadın doktor tercih ediyorum.', [('Çarşaflı', 'ATTIRE')]),
    ('tr', 'Aşkenaz Yahudisi kökenliyim, bazı taramaları önerir misiniz?', [('Aşkenaz Yahudisi kökenliyim', 'ETHNIC_ORIGIN')]),
    ('tr', 'Yeşil Yol Partisi ilçe yöneticisiyim.', [('Partisi ilçe yöneticisiyim', 'POLITICAL_OPINION')]),
    ('tr', 'Şubeye gelemiyorum çünkü tekerlekli sandalye kullanıyorum.', [('tekerlekli sandalye', 'HEALTH')]),
    ('tr', 'Son aylarda birden fazla partnerim oldu.', [('birden fazla partnerim', 'SEXUAL_LIFE')]),
    ('en', 'As a practising Muslim, are these sweets halal?', [('Muslim', 'RELIGION')]),
    ('en', "I'm a committed vegan, do you have a vegan leather option?", [('vegan', 'PHILOSOPHICAL_BELIEF')]),
]

GENERAL_TALK = [
    'Diyabet istatistikleri her yıl artıyor.',
    'Kliniğimizde onkoloji bölümü açıldı.',
    'Sendikalar grev kararı aldı.',
    'The clinic has a new oncology wing.',
    'Kanser hakkında bilgi almak istiyorum.',
    'Kanser taraması kampanyamız bu ay devam ediyor.',
    'Hamile kadınlar için vitamin paketi stokta.',
    'Şeker hastaları için şekersiz ürün kategorimize göz atın.',
    "Dünya Diyabet Günü'nde ücretsiz ölçüm yapıyoruz.",
    'Ramazan ayında mağazalarımız 10:00-20:00 arası açıktır.',
    'Kilisenin restorasyonu tamamlandı.',
    'Seçimlerde oy verme oranı yüksekti.',
    "Adli sicil kaydı belgesi e-Devlet'ten alınabilir.",
    'Parmak izi ile giriş özelliği uygulamamıza eklendi.',
    'Yüz tanıma ile ödeme yakında geliyor.',
    'DNA testi fiyatları laboratuvara göre değişir.',
    'HIV testleri ücretsizdir.',
    'Depresyon belirtileri nelerdir?',
    'Tesettür giyim kategorisinde indirim var.',
    'Dernek üyelik formu web sitemizde.',
    'Diabetes affects millions of people worldwide.',
    'Union members voted for a strike.',
    'Fingerprint login is now available in the app.',
    'Genetic testing is expensive in most countries.',
    'The mosque is near the train station.',
    'My account is disabled, please help.',
    'I want to learn about cancer insurance.',
    'Patients with diabetes should check their blood sugar regularly.',
    'Kartım engellendi, ne yapmalıyım?',
    'Kanser sigortası poliçemi yenilemek istiyorum.',
    'Arnavut kaldırımlı sokakta kargo aracı giremiyor.',
    'Arapça klavye desteği var mı?',
    'Şiir kitabı siparişim gelmedi.',
    'Peçete siparişim eksik geldi.',
    'Gayet memnun kaldım, teşekkürler.',
    'Şu anda sisteme giriş yapmak lazım.',
    'Roman okumayı seviyorum, yeni çıkanlar neler?',
    'I like rum and coke.',
    'My order came out wrong.',
    'I converted my points to miles.',
    'Hamile misiniz? Bu ürün hamilelikte kullanılmaz.',
    'Diyabetli müşterilerimiz için şekersiz menü hazırladık.',
    'Kemoterapi alan hastalarımız için ücretsiz servis var.',
    "Ramazan'da oruç tutanlar için iftar menümüz hazır.",
    'Namaz vakitleri uygulamamızda görünür.',
    'CHP ve AKP genel merkezleri kargo adresimizde.',
    'Kürt sofrası menümüz çok beğenildi.',
    'Sabıka kaydı olmayan personel alıyoruz.',
    'Cezaevi ziyaret saatleri hakkında bilgi veriyor musunuz?',
    'Parmak izi okuyucu çalışmıyor.',
    'Genetik olarak modifiye ürün satıyor musunuz?',
    'Başörtüsü modellerimiz yeni sezonda.',
    'I read an article about depression last night.',
    'She works at the cancer research center.',
    'Our HIV testing service is free.',
    'Her gün insülin fiyatları artıyor.',
    'Kemoterapi ilacı stokta var mı?',
    'Bana kanser taraması paketinin fiyatını söyler misiniz?',
    'Eğer şeker hastasıysanız doktorunuza danışın.',
    'Benim siparişim kilise yakınındaki adrese gitsin.',
    'Sendika binasının önünde bekliyorum.',
    'Tesettür giyim kategorisinde indirim var.',
    'Kurt gördüm, çok korktum.',
]


@pytest.mark.parametrize("language, sentence, expected", PERSONAL_DISCLOSURES)
def test_personal_disclosure_is_found_with_exact_span(recognizer, language, sentence, expected):
    assert findings(recognizer, sentence) == expected


@pytest.mark.parametrize("category", SPECIAL_CATEGORIES)
def test_every_category_has_turkish_and_english_examples(category):
    languages = [lang for lang, _, expected in PERSONAL_DISCLOSURES if any(c == category for _, c in expected)]
    assert languages.count("tr") >= 2 and languages.count("en") >= 1, category


@pytest.mark.parametrize("sentence", GENERAL_TALK)
def test_general_talk_is_not_a_finding(recognizer, sentence):
    assert findings(recognizer, sentence) == []


def test_general_talk_corpus_is_large_enough():
    assert len(GENERAL_TALK) >= 20


def test_general_health_talk_is_not_a_finding(recognizer):
    assert findings(recognizer, "Diyabet istatistikleri arttı.") == []
    assert findings(recognizer, "Kliniğimizde onkoloji bölümü açıldı.") == []
    assert findings(recognizer, "The clinic has a new oncology wing.") == []


# --- the attribution rules --------------------------------------------------------------


def score_and_rule(recognizer, text):
    [result] = recognizer.analyze(text, ALL)
    return result.score, result.recognition_metadata["rule"]


def test_first_person_suffix_on_the_cue(recognizer):
    assert score_and_rule(recognizer, "Diyabetim var.") == (pytest.approx(0.9), "first_person_suffix")
    assert findings(recognizer, "Oruçluyum.") == [("Oruçluyum", "RELIGION")]
    assert findings(recognizer, "Hastalığımı kimseye söylemedim.") == [("Hastalığımı", "HEALTH")]


def test_first_person_verb_after_the_cue(recognizer):
    assert score_and_rule(recognizer, "İnsülin kullanıyorum.") == (pytest.approx(0.85), "first_person_verb")
    assert findings(recognizer, "Müslüman olduğum için sormak istedim.") == [("Müslüman", "RELIGION")]


def test_asking_about_a_topic_is_not_a_disclosure(recognizer):
    assert findings(recognizer, "Kanser hakkında bilgi almak istiyorum.") == []
    assert findings(recognizer, "Diyabet konusunda araştırma yapıyorum.") == []


def test_first_person_suffix_survives_a_topic_word(recognizer):
    assert findings(recognizer, "Diyabetim hakkında bilgi vermek istiyorum.") == [("Diyabetim", "HEALTH")]


def test_third_person_verb_implies_a_person(recognizer):
    assert score_and_rule(recognizer, "Annemin alzheimer teşhisi kondu.") == (pytest.approx(0.85), "third_person_verb")
    assert findings(recognizer, "Geçen ay kanser oldu.") == [("kanser", "HEALTH")]


def test_kinship_word_with_possessive_attributes_the_cue(recognizer):
    assert score_and_rule(recognizer, "Eşim hamile.") == (pytest.approx(0.8), "person_reference")
    assert findings(recognizer, "Eşimin kemoterapisi yarın başlıyor.") == [("kemoterapisi", "HEALTH")]


def test_kinship_word_without_possessive_does_not(recognizer):
    assert findings(recognizer, "Anneler için hamilelik vitaminleri indirimde.") == []


def test_named_person_attributes_the_cue(recognizer):
    assert score_and_rule(recognizer, "Ahmet Bey şeker hastası.") == (pytest.approx(0.8), "named_person")


def test_spacy_person_entity_attributes_the_cue_in_english(recognizer):
    text = "John has diabetes."
    assert findings(recognizer, text) == []
    person = SimpleNamespace(label_="PERSON", start_char=0, end_char=4)
    assert findings(recognizer, text, nlp_artifacts=SimpleNamespace(entities=[person])) == [("diabetes", "HEALTH")]


def test_hypothetical_is_not_a_disclosure(recognizer):
    assert findings(recognizer, "Eğer annen şeker hastasıysa bu ürünü kullanmasın.") == []
    assert findings(recognizer, "If my wife is pregnant, can she use this?") == []


def test_institutional_we_is_not_a_person(recognizer):
    assert findings(recognizer, "Hastalarımıza kemoterapi uyguluyoruz.") == []


def test_turkish_casefolding_of_cues(recognizer):
    assert findings(recognizer, "ŞEKER HASTASIYIM") == [("ŞEKER HASTASIYIM", "HEALTH")]
    assert findings(recognizer, "İnsülin kullanıyorum.") == [("İnsülin", "HEALTH")]
    assert findings(recognizer, "İNSÜLİN KULLANIYORUM.") == [("İNSÜLİN", "HEALTH")]
    assert findings(recognizer, "I HAVE DIABETES") == [("DIABETES", "HEALTH")]


def test_cues_typed_without_turkish_letters_match(recognizer):
    assert findings(recognizer, "seker hastasiyim") == [("seker hastasiyim", "HEALTH")]
    assert findings(recognizer, "sendika uyesiyim") == [("sendika uyesiyim", "UNION_MEMBERSHIP")]


def test_span_stops_at_the_apostrophe(recognizer):
    assert findings(recognizer, "HIV'liyim.") == [("HIV", "HEALTH")]
    assert findings(recognizer, "CHP’liyim.") == [("CHP", "POLITICAL_OPINION")]


def test_stem_final_k_softens_before_a_vowel(recognizer):
    assert findings(recognizer, "Ben agnostiğim.") == [("agnostiğim", "PHILOSOPHICAL_BELIEF")]


def test_strict_cue_keeps_turkish_letters(recognizer):
    assert findings(recognizer, "Kürdüm.") == [("Kürdüm", "ETHNIC_ORIGIN")]
    assert findings(recognizer, "Kurt gördüm, çok korktum.") == []


def test_not_phrase_cancels_a_cue(recognizer):
    assert findings(recognizer, "Şiiyim.") == [("Şiiyim", "RELIGION")]
    assert findings(recognizer, "Şiirimi okudum.") == []
    assert findings(recognizer, "Gayet memnunum.") == []


def test_case_sensitive_cue(recognizer):
    assert findings(recognizer, "Babam AIDS hastası.") == [("AIDS", "HEALTH")]
    assert findings(recognizer, "My father aids me with the forms.") == []


def test_language_restricted_cue(recognizer):
    assert findings(recognizer, "Annem Rum.") == [("Rum", "ETHNIC_ORIGIN")]
    assert findings(recognizer, "I like rum and my wife likes gin.") == []


def test_cue_inside_a_person_name_is_not_a_finding(recognizer):
    assert findings(recognizer, "Prof. Dr. Oruç Kılıç'tan randevu almak istiyorum.") == []


def test_cue_in_a_street_name_is_not_a_finding(recognizer):
    assert findings(recognizer, "Cami Sk. No:48 adresine gönderin, annem orada.") == []


def test_adjacent_cues_of_one_category_are_one_finding(recognizer):
    assert findings(recognizer, "Aşkenaz Yahudisi kökenliyim.") == [("Aşkenaz Yahudisi kökenliyim", "ETHNIC_ORIGIN")]
    assert findings(recognizer, "Şeker hastasıyım ve oruçluyum.") == [
        ("Şeker hastasıyım", "HEALTH"),
        ("oruçluyum", "RELIGION"),
    ]


def test_longest_cue_wins_within_a_category(recognizer):
    assert findings(recognizer, "Şeker hastalığım var.") == [("Şeker hastalığım", "HEALTH")]


# --- results, entities, lexicon -----------------------------------------------------------


def test_results_carry_entity_type_score_and_recognizer(recognizer):
    [result] = recognizer.analyze("Sendika üyesiyim.", ALL)
    assert isinstance(result, RecognizerResult)
    assert result.entity_type == "SPECIAL:UNION_MEMBERSHIP"
    assert 0.8 <= result.score <= 0.9
    assert result.recognition_metadata[RecognizerResult.RECOGNIZER_NAME_KEY] == "SpecialCategoryRecognizer"
    assert result.recognition_metadata["cue"] == "sendika üye*"


def test_supported_entities_are_every_special_category(recognizer):
    assert recognizer.supported_entities == [f"SPECIAL:{c}" for c in SPECIAL_CATEGORIES]


def test_only_requested_categories_are_returned(recognizer):
    text = "Şeker hastasıyım ve oruçluyum."
    assert findings(recognizer, text, ["SPECIAL:RELIGION"]) == [("oruçluyum", "RELIGION")]
    assert findings(recognizer, text, ["PERSON"]) == []


def test_lexicon_has_cues_for_every_category():
    assert {cue.category for cue in load_cues()} == set(SPECIAL_CATEGORIES)


def test_unknown_category_in_lexicon_is_an_error_naming_file_and_key(tmp_path):
    path = tmp_path / "cues.yaml"
    path.write_text("HEALTH: [diyabet*]\nASTROLOGY: [burç*]\n", encoding="utf-8")
    with pytest.raises(CueLexiconError, match=r"cues\.yaml.*ASTROLOGY"):
        load_cues(path)


def test_missing_category_in_lexicon_is_an_error(tmp_path):
    path = tmp_path / "cues.yaml"
    path.write_text("HEALTH: [diyabet*]\n", encoding="utf-8")
    with pytest.raises(CueLexiconError, match="RELIGION"):
        load_cues(path)


def test_malformed_cue_entry_is_an_error_naming_its_position(tmp_path):
    sections = "".join(f"{c}: [x*]\n" for c in SPECIAL_CATEGORIES if c != "HEALTH")
    path = tmp_path / "cues.yaml"
    path.write_text(sections + "HEALTH: [diyabet*, {cue: kanser*, colour: red}]\n", encoding="utf-8")
    with pytest.raises(CueLexiconError, match=r"HEALTH\[1\].*colour"):
        load_cues(path)


def test_a_megabyte_of_text_is_analysed_whole(recognizer):
    # Behaviour only: the speed is measured by bench/recognizer_speed.py, never asserted here.
    text = "\n".join([s for _, s, _ in PERSONAL_DISCLOSURES] + GENERAL_TALK)
    text = (text + "\n") * (1_000_000 // len(text) + 1)
    found = recognizer.analyze(text, ALL)
    assert len(found) > 1000


def test_works_inside_a_presidio_analyzer_engine():
    engine = presidio_engine_with(SpecialCategoryRecognizer())
    text = "Sarah told me she has epilepsy. Epilepsy awareness month starts soon."
    found = [(text[r.start : r.end], r.entity_type) for r in engine.analyze(text, language="en")]
    assert found == [("epilepsy", "SPECIAL:HEALTH")]


# --- registers beyond customer chat (issue #16 item 1) -----------------------------------
# Clinical notes, HR and payroll wording, court language, religious practice at work or in
# banking, genetic test results, first-person ethnic self-identification. Each kind: Turkish
# and English positives in varied registers, and look-alike general talk on the same topic
# that must stay unflagged. Written for these tests; a positive asserts that its category is
# among the findings (the exact span is covered by the tests above).

REGISTER_POSITIVES = {
    "clinical": [
        ("tr", "Hasta Mehmet T., 61 y, LDL 190 mg/dl, atorvastatin 40 mg başlandı.", "HEALTH"),
        ("tr", "Poliklinik notu: Zeynep A. (38 K) — majör depresif bozukluk, essitalopram 10 mg 1x1.", "HEALTH"),
        ("tr", "Hasta Hüseyin Ç. 47 yaşında, HBsAg pozitif, tenofovir tedavisine başlandı.", "HEALTH"),
        ("tr", "Epikriz: Ali R., 72 yaşında erkek; atriyal fibrilasyon, varfarin 5 mg, INR 2,4.", "HEALTH"),
        ("tr", "Hasta Elif D., 29 y, 3. gebelik haftası, IVF sonrası progesteron desteği.", "HEALTH"),
        ("tr", "Hasta Murat S. laparoskopik kolesistektomi sonrası 2. gün, dren çekildi.", "HEALTH"),
        ("tr", "Hasta Derya B. 34 yaşında, rinoplasti ve botoks uygulaması planlandı.", "HEALTH"),
        ("tr", "Hasta Kemal O., 66 y, sol MCA infarktı, levetirasetam 500 mg 2x1.", "HEALTH"),
        ("en", "Pt. Mary S. started fluoxetine 20mg for GAD.", "HEALTH"),
        ("en", "Patient Robert K., 58M, T2DM, HbA1c 9.1%, on insulin glargine 20 units.", "HEALTH"),
        ("en", "Discharge summary: Linda P., 44F, s/p appendectomy, tolerating diet.", "HEALTH"),
        ("en", "Pt. James W. with COPD exacerbation, prednisone 40 mg x5 days.", "HEALTH"),
        ("en", "Patient Susan M., 31, G2P1 at 28 weeks, gestational diabetes on metformin 500 mg.", "HEALTH"),
        ("en", "Pt. Karen L. underwent breast augmentation; follow-up in 2 weeks.", "HEALTH"),
        ("en", "Patient David H., 67M, NSTEMI, stent placed in LAD, clopidogrel 75 mg daily.", "HEALTH"),
        ("en", "Pt. Anna B. has relapsing-remitting MS, on ocrelizumab.", "HEALTH"),
    ],
    "union": [
        ("tr", "Bordromda her ay sendika aidatı kesiliyor, bu ay iki kez kesilmiş.", "UNION_MEMBERSHIP"),
        ("tr", "Personel Ahmet Yıldız — sendika aidatı kesintisi: 245 TL.", "UNION_MEMBERSHIP"),
        ("tr", "Türk Metal üyeliğim nedeniyle toplu sözleşme zammı maaşıma yansıdı mı?", "UNION_MEMBERSHIP"),
        ("tr", "Eğitim-Sen üyesiyim, aidatım maaşımdan otomatik kesiliyor.", "UNION_MEMBERSHIP"),
        ("en", "Union dues are deducted from my paycheck every month.", "UNION_MEMBERSHIP"),
        ("en", "I joined UNISON last year and my dues went up.", "UNION_MEMBERSHIP"),
        ("en", "Employee: Sarah C. — union dues deduction $38.50 per pay period.", "UNION_MEMBERSHIP"),
        ("en", "My husband is a Teamsters member and gets the union health plan.", "UNION_MEMBERSHIP"),
    ],
    "criminal": [
        ("tr", "Sanık Ali K. hakkında TCK 142 uyarınca mahkûmiyet kararı verildi.", "CRIMINAL_RECORD"),
        ("tr", "Kardeşim hakkında hükmün açıklanmasının geri bırakılmasına karar verildi.", "CRIMINAL_RECORD"),
        ("tr", "Eniştem dolandırıcılıktan üç yıl içeride yattı.", "CRIMINAL_RECORD"),
        ("tr", "Ben gençken iki sene içerde yattım, şimdi iş arıyorum.", "CRIMINAL_RECORD"),
        ("tr", "Hükümlü Cengiz A. koşullu salıverilme ile tahliye edildi.", "CRIMINAL_RECORD"),
        ("en", "My brother did time for a DUI in 2012.", "CRIMINAL_RECORD"),
        ("en", "He served a sentence for armed robbery before joining us.", "CRIMINAL_RECORD"),
        ("en", "Defendant Mark T. pleaded guilty to fraud and was sentenced to 18 months.", "CRIMINAL_RECORD"),
        ("en", "I'm an ex-con and most employers won't call me back.", "CRIMINAL_RECORD"),
    ],
    "religious_practice": [
        ("tr", "Faizsiz hesap istiyorum çünkü faiz benim için haram.", "RELIGION"),
        ("tr", "Cuma namazı için izin talep ediyorum, öğle arasını uzatabilir miyim?", "RELIGION"),
        ("tr", "Dini inancım gereği katılım bankasıyla çalışmak istiyorum.", "RELIGION"),
        ("tr", "Bayram namazına gideceğim için sabah vardiyasına gelemeyeceğim.", "RELIGION"),
        ("en", "I'd like to request time off for Eid next week.", "RELIGION"),
        ("en", "We're looking for a halal mortgage because my wife and I avoid riba.", "RELIGION"),
        ("en", "I need Friday afternoons free for jummah prayers.", "RELIGION"),
        ("en", "I keep Shabbat, so I can't work Saturday shifts.", "RELIGION"),
    ],
    "genetic": [
        ("tr", "BRCA2 mutasyonu taşıyıcısıyım, koruyucu cerrahi düşünüyorum.", "GENETIC"),
        ("tr", "Kızımın genetik testinde SMA taşıyıcılığı çıktı.", "GENETIC"),
        ("tr", "Hasta Nur E., 35 y, faktör V Leiden heterozigot.", "GENETIC"),
        ("tr", "Ben MTHFR mutasyonu taşıyorum, doktor folat önerdi.", "GENETIC"),
        ("en", "I'm a carrier of the CFTR variant, so we did IVF with screening.", "GENETIC"),
        ("en", "My 23andMe results showed two copies of APOE4.", "GENETIC"),
        ("en", "My son tested positive for the HLA-B27 gene.", "GENETIC"),
        ("en", "She is heterozygous for the HFE mutation.", "GENETIC"),
    ],
    "ethnic_self": [
        ("tr", "Ben Kürdüm ve anadilimde hizmet almak istiyorum.", "ETHNIC_ORIGIN"),
        ("tr", "Hemşinliyim, Rize'den geldik.", "ETHNIC_ORIGIN"),
        ("tr", "Süryaniyim, Midyat'ta büyüdüm.", "ETHNIC_ORIGIN"),
        ("tr", "Kırım Tatarıyım, dedemler sürgünden sonra buraya yerleşmiş.", "ETHNIC_ORIGIN"),
        ("en", "As a Roma woman I am followed around every shop.", "ETHNIC_ORIGIN"),
        ("en", "I'm Kurdish and my parents came from Van.", "ETHNIC_ORIGIN"),
        ("en", "I am Assyrian and we speak Aramaic at home.", "ETHNIC_ORIGIN"),
        ("en", "Being Uyghur, I worry about my family back home.", "ETHNIC_ORIGIN"),
    ],
}

REGISTER_NEGATIVES = {
    "clinical": [
        "HbA1c değeri %7'nin altında tutulmalıdır.",
        "Metformin 1000 mg tablet stokta var mı?",
        "Hastaların çoğunda atorvastatin 40 mg ile LDL düşer.",
        "Sertraline 50 mg is commonly prescribed for MDD.",
        "Patients with COPD should receive a yearly flu vaccine.",
        "Rhinoplasty is the most common cosmetic procedure in Turkey.",
    ],
    "union": [
        "Sendika aidatları 2025'te yüzde on arttı.",
        "Apartman aidatı kesintisi bu ay yapılmadı.",
        "Union dues are tax-deductible in some states.",
        "The Teamsters union announced a strike at the port.",
    ],
    "criminal": [
        "TCK 142. madde nitelikli hırsızlık suçunu düzenler.",
        "Hükmün açıklanmasının geri bırakılması kurumu 2005'te getirildi.",
        "İçeride yatan bir kedi var, kapıyı kapatmayın.",
        "Convicted felons cannot vote in some states.",
        "The podcast interviews people who did time in Alcatraz.",
    ],
    "religious_practice": [
        "Katılım bankaları faizsiz hesap ürünleri sunar.",
        "Cuma namazı saatinde şubemiz kapalıdır.",
        "Our branch now offers halal mortgages.",
        "Eid al-Fitr is a public holiday in many countries.",
    ],
    "genetic": [
        "BRCA genleri meme kanseri riskiyle ilişkilidir.",
        "Kistik fibrozis taşıyıcılık taraması hakkında bilgi alabilir miyim?",
        "CFTR variants cause cystic fibrosis.",
        "APOE4 is associated with a higher risk of Alzheimer's disease.",
    ],
    "ethnic_self": [
        "Kürt meselesi üzerine bir panel düzenlendi.",
        "Bana bir kalem lazım.",
        "The Roma community faces discrimination across Europe.",
        "Roma is a beautiful city in spring.",
    ],
}

_REGISTER_POSITIVE_CASES = [(kind, lang, s, c) for kind, rows in REGISTER_POSITIVES.items() for lang, s, c in rows]
_REGISTER_NEGATIVE_CASES = [(kind, s) for kind, rows in REGISTER_NEGATIVES.items() for s in rows]


@pytest.mark.parametrize("kind, language, sentence, category", _REGISTER_POSITIVE_CASES)
def test_register_positive_is_found(recognizer, kind, language, sentence, category):
    assert category in [c for _, c in findings(recognizer, sentence)], (kind, sentence)


@pytest.mark.parametrize("kind, sentence", _REGISTER_NEGATIVE_CASES)
def test_register_look_alike_is_not_a_finding(recognizer, kind, sentence):
    assert findings(recognizer, sentence) == [], (kind, sentence)


@pytest.mark.parametrize("kind", sorted(REGISTER_POSITIVES))
def test_register_cases_cover_both_languages(kind):
    languages = [lang for lang, _, _ in REGISTER_POSITIVES[kind]]
    assert languages.count("tr") >= 3 and languages.count("en") >= 3
    assert len(REGISTER_NEGATIVES[kind]) >= 2


def test_record_subject_named_by_spacy_attributes_the_cue(recognizer):
    # a name in none of our lists (the name recognizer now knows common English names)
    text = "Employee Brannoc Quillfeather: union dues deduction $38.50 per pay period."
    assert findings(recognizer, text) == []  # such a name needs spaCy's entities
    person = SimpleNamespace(label_="PERSON", start_char=9, end_char=29)
    found = findings(recognizer, text, nlp_artifacts=SimpleNamespace(entities=[person]))
    assert found == [("union dues", "UNION_MEMBERSHIP")]


def test_record_subject_rule_and_record_only_cues(recognizer):
    [result] = [r for r in recognizer.analyze("Hasta Ayten K., 58 y, KOAH tanılı.", ALL)]
    assert result.recognition_metadata["rule"] == "record_subject"
    # a lab abbreviation is health data only in a record about someone
    assert findings(recognizer, "Hasta Ayten K., 58 y, LDL 160.") == [("LDL", "HEALTH")]
    assert findings(recognizer, "Benim LDL ölçümü yapan cihazım bozuldu.") == []
    # the subject's record ends at a blank line
    assert findings(recognizer, "Hasta Ayten K., 58 y.\n\nKOAH haftası etkinlikleri başladı.") == []


def test_infix_cue_matches_inside_a_word(recognizer):
    assert findings(recognizer, "Annemin histerektomisi geçen hafta yapıldı.") == [("histerektomisi", "HEALTH")]


# A second set, written after the first one passed and measured before any change made for it
# (see the report of issue #16 item 1); kept as regression cases.
REGISTER_POSITIVES_SECOND = {
    'clinical': [
        ('tr', 'Kontrol muayenesi: Fatma Y., 49 yaşında kadın, hipotiroidi nedeniyle levotiroksin 75 mcg kullanıyor.', 'HEALTH'),
        ('tr', 'Hasta Selim U. şizofreni tanısıyla klozapin 300 mg/gün almakta.', 'HEALTH'),
        ('tr', 'Hasta Gülsüm T., 63 y, tüberküloz tedavisinin 2. ayında, izoniazid + rifampisin.', 'HEALTH'),
        ('tr', 'Nöroloji notu — Hasta Burak E., 27 y, epilepsi, son nöbet 3 hafta önce.', 'HEALTH'),
        ('tr', 'Hasta Sevgi K. 41 yaşında, sezaryen sonrası 1. gün, ağrı kontrolü iyi.', 'HEALTH'),
        ('tr', 'Hasta Orhan M., 55 y, koroner bypass sonrası kardiyak rehabilitasyon programında.', 'HEALTH'),
        ('tr', 'Hasta Tuğba N., 33 y, meme büyütme ameliyatı için ön değerlendirme yapıldı.', 'HEALTH'),
        ('en', 'Pt. Gregory F., 52M, schizophrenia, stable on risperidone 4 mg.', 'HEALTH'),
        ('en', 'Patient Helen R., 70F, atrial fibrillation, on apixaban 5 mg BID.', 'HEALTH'),
        ('en', 'Pt. Tom A. presented with a migraine with aura; sumatriptan given.', 'HEALTH'),
        ('en', 'Patient Olivia N., 36, 12 weeks pregnant after IVF, progesterone support.', 'HEALTH'),
        ('en', 'Clinic note: Peter V., 61M, s/p total knee arthroplasty, PT twice weekly.', 'HEALTH'),
        ('en', 'Pt. Rachel G. had a rhinoplasty on 3/14, swelling improving.', 'HEALTH'),
        ('en', 'Patient Carlos D., 45M, HIV on bictegravir, viral load undetectable.', 'HEALTH'),
    ],
    'union': [
        ('tr', 'Maaş bordromda Tez-Koop-İş aidatı görünüyor, ben üye değilim ki.', 'UNION_MEMBERSHIP'),
        ('tr', 'İşyerinde sendika temsilcisiyim, toplu sözleşme görüşmelerine katılıyorum.', 'UNION_MEMBERSHIP'),
        ('tr', "Eşim DİSK'e bağlı Genel-İş üyesi, belediyede çalışıyor.", 'UNION_MEMBERSHIP'),
        ('en', "I'm a shop steward for Unite at the depot.", 'UNION_MEMBERSHIP'),
        ('en', 'My wife pays union dues through payroll every fortnight.', 'UNION_MEMBERSHIP'),
        ('en', "I'm in the NEU and we're balloting for strike action.", 'UNION_MEMBERSHIP'),
    ],
    'criminal': [
        ('tr', "Babam 2010'da uyuşturucudan hüküm giydi, beş yıl yattı.", 'CRIMINAL_RECORD'),
        ('tr', 'Müvekkilim sanık Hasan T. hakkında beraat kararı istiyoruz.', 'CRIMINAL_RECORD'),
        ('tr', 'Dayım için ertelenmiş hapis cezası verildi.', 'CRIMINAL_RECORD'),
        ('en', 'My uncle was sent to prison for tax evasion.', 'CRIMINAL_RECORD'),
        ('en', 'I have a prior conviction for shoplifting from when I was 19.', 'CRIMINAL_RECORD'),
        ('en', 'My cousin is on parole after doing three years.', 'CRIMINAL_RECORD'),
        ('en', 'She was found guilty of assault last spring.', 'CRIMINAL_RECORD'),
    ],
    'religious_practice': [
        ('tr', 'Oruç tuttuğum için öğle yemeği molasını iftara kaydırabilir miyim?', 'RELIGION'),
        ('tr', 'Ramazan bayramında izin almak istiyorum, ailemle bayram namazına gideceğiz.', 'RELIGION'),
        ('tr', 'Faiz dinimize aykırı olduğu için kredi kartı kullanmıyorum.', 'RELIGION'),
        ('en', "I fast during Ramadan so I'd prefer not to do lunch meetings.", 'RELIGION'),
        ('en', "I'd like to switch to an Islamic account because interest goes against my faith.", 'RELIGION'),
        ('en', 'Could I leave early on Fridays for jummah?', 'RELIGION'),
    ],
    'genetic': [
        ('tr', 'Annemde BRCA1 mutasyonu çıktı, bana da test önerdiler.', 'GENETIC'),
        ('tr', 'Eşim ve ben talasemi taşıyıcısıyız, bebeğimiz için genetik danışmanlık aldık.', 'GENETIC'),
        ('tr', 'Benim Down sendromlu bir kızım var.', 'GENETIC'),
        ('en', "My genetic test showed I'm a carrier for Tay-Sachs.", 'GENETIC'),
        ('en', 'I inherited the Lynch syndrome mutation from my father.', 'GENETIC'),
        ('en', 'My daughter was diagnosed with fragile X syndrome after genetic testing.', 'GENETIC'),
    ],
    'ethnic_self': [
        ('tr', 'Ben Çerkesim, düğünlerimizde hâlâ eski danslar yapılır.', 'ETHNIC_ORIGIN'),
        ('tr', 'Zazayım, Bingöllüyüm.', 'ETHNIC_ORIGIN'),
        ('tr', 'Annem Boşnak, babam Arnavut.', 'ETHNIC_ORIGIN'),
        ('en', "As a Black British woman, I've faced this many times.", 'ETHNIC_ORIGIN'),
        ('en', "I'm half Armenian on my mother's side.", 'ETHNIC_ORIGIN'),
        ('en', 'My grandparents were Circassian refugees.', 'ETHNIC_ORIGIN'),
    ],
}
REGISTER_NEGATIVES_SECOND = {
    'clinical': [
        'Levotiroksin sabah aç karnına alınmalıdır.',
        'Tüberküloz tedavisi en az altı ay sürer.',
        "Sezaryen oranları Türkiye'de yüksek.",
        'Risperidone 4 mg tablets are out of stock.',
        'Atrial fibrillation increases stroke risk fivefold.',
        'Rhinoplasty recovery usually takes two weeks.',
    ],
    'union': [
        'Toplu sözleşme görüşmeleri yarın başlıyor.',
        'Sendika temsilcisi seçimi cuma günü.',
        'Shop stewards are elected every two years.',
        'Union dues vary by sector.',
    ],
    'criminal': [
        'Beraat kararı istinafa taşındı.',
        'Ertelenmiş hapis cezası şartları nelerdir?',
        'Prison reform is on the agenda.',
        'Parole hearings are public in some states.',
    ],
    'religious_practice': [
        'Ramazan bayramında kargo teslimatı yapılmayacaktır.',
        'İftar menümüz 250 TL.',
        'Islamic accounts are available at all branches.',
        'Jummah starts at 1 pm at the central mosque.',
    ],
    'genetic': [
        'BRCA1 mutasyonu taşıyanlarda risk artar.',
        "Talasemi taşıyıcılığı Akdeniz'de yaygındır.",
        'Lynch syndrome is the most common hereditary colon cancer.',
        'Genetic testing for Tay-Sachs is offered to couples.',
    ],
    'ethnic_self': [
        'Çerkes tavuğu tarifi arıyorum.',
        'Boşnak böreği çok lezzetli.',
        'Armenian cuisine uses a lot of apricots.',
        'Circassian history is little known.',
    ],
}


@pytest.mark.parametrize(
    "kind, language, sentence, category",
    [(k, lang, t, c) for k, rows in REGISTER_POSITIVES_SECOND.items() for lang, t, c in rows],
)
def test_register_positive_second_set_is_found(recognizer, kind, language, sentence, category):
    assert category in [c for _, c in findings(recognizer, sentence)], (kind, sentence)


@pytest.mark.parametrize("kind, sentence", [(k, t) for k, rows in REGISTER_NEGATIVES_SECOND.items() for t in rows])
def test_register_look_alike_second_set_is_not_a_finding(recognizer, kind, sentence):
    assert findings(recognizer, sentence) == [], (kind, sentence)


@pytest.mark.xfail(reason="colloquial 'içeri girip çıktı' (was in prison) is also 'went in and out'; not a cue", strict=True)
def test_colloquial_prison_idiom_without_a_cue(recognizer):
    assert findings(recognizer, 'Ağabeyim hırsızlıktan içeri girip çıktı, şimdi düzgün.') != []



# --------------------------------------------------------------------------------------
# Vocabulary from special_vocab_extra.yaml and the attribution patterns added with it.
# Each: (sentence, category that must be found). Own sentences, not from any evaluation set.
EXTRA_POSITIVES = [
    # vocabulary, attributed by the existing rules
    ("Komşum Selim swinger kulübüne üye olduğunu anlattı.", "SEXUAL_LIFE"),
    ("My husband had an extramarital relationship last year.", "SEXUAL_LIFE"),
    ("I take PrEP every day and need a refill before my trip.", "HEALTH"),
    ("Kız kardeşim geçen ay rinoplasti oldu.", "HEALTH"),
    ("My aunt wears a tichel every day at work.", "ATTIRE"),
    ("Babam takke ile işe gidiyor.", "ATTIRE"),
    ("My grandmother is Māori and we visit the marae every summer.", "ETHNIC_ORIGIN"),
    ("Dedem ahıskalıydı, sürgünü hep anlatırdı.", "ETHNIC_ORIGIN"),
    ("I did not consent to my facial geometry being stored.", "BIOMETRIC"),
    ("Ses biyometrisi kaydımı silmenizi istiyorum.", "BIOMETRIC"),
    ("Babalık testi sonucum pozitif çıktı.", "GENETIC"),
    ("Ben hümanistim, dini nikah istemiyorum.", "PHILOSOPHICAL_BELIEF"),
    ("I'm an antinatalist and my parents hate it.", "PHILOSOPHICAL_BELIEF"),
    ("I'm a Quaker so I won't swear the oath.", "RELIGION"),
    ("Ben Süryaniyim, pazar ayinine gidiyorum.", "RELIGION"),
    ("Sosyal demokratım, seçimde de öyle oy verdim.", "POLITICAL_OPINION"),
    ("Ağabeyim müebbet aldı, on yıldır içeride.", "CRIMINAL_RECORD"),
    ("Amcam geçen yıl şartlı tahliye edildi.", "CRIMINAL_RECORD"),
    ("My brother was jailed in 2019 and is out on licence now.", "CRIMINAL_RECORD"),
    ("My dad is Ghanaian and my mum is mixed race.", "ETHNIC_ORIGIN"),
    # rule 2: a strong first-person ending wherever it stands in the next words
    ("Ramazanda oruç tutuyorum abi, yemeğe gelemem.", "RELIGION"),
    ("Kürt bir aileden geliyorum, dedem Mardinli.", "ETHNIC_ORIGIN"),
    # rule 2: nominalised first person right after the cue
    ("Talasemi taşıyıcısı olduğumu evlilik öncesi testte öğrendim.", "GENETIC"),
    # rule 1: a membership word after the cue: "mensubuyuz"
    ("Süryani Ortodoks Kilisesi mensubuyuz, bayramda izin istiyoruz.", "RELIGION"),
    # second person to a named reader ("Sayın X", "X Bey/Hanım")
    ("Sayın Deniz Karaca, Tez-Koop-İş üyeliğiniz onaylanmıştır.", "UNION_MEMBERSHIP"),
    ("Sayın Ozan Er, test sonucunuza göre BRCA1 mutasyonu taşımaktasınız.", "GENETIC"),
    # a party name after a first name is not a person's name ("Zafer" is a given name)
    ("Ben Zafer Partisi üyesiyim.", "POLITICAL_OPINION"),
    # "X Bey/Hanım" names a person
    ("Nurten Hanım diyabet hastası, şekerli ikram etmeyelim.", "HEALTH"),
    # "asked if" is an indirect question, not a hypothetical
    ("Fatima Malik asked if she could wear her hijab with the uniform.", "ATTIRE"),
    # English first person read in any clause ("Proud ... member since my ...")
    ("Proud UNISON member since my first shift.", "UNION_MEMBERSHIP"),
    # English "joined (the) <union/party>"
    ("joined the GMB after the layoffs, best decision.", "UNION_MEMBERSHIP"),
    # "işe" (to work) is not the conditional "ise"
    ("Annem başörtüsüyle işe gidiyor.", "ATTIRE"),
    # forms and service notes name their subject: "Müşteri Ad Soyad", "Ad Soyad:"
    ("Müşteri Kemal Uysal faiz haram olduğu için dini inancı gereği katılım hesabı istedi.", "RELIGION"),
    ("Ad Soyad: Leyla Önal\nSağlık durumu: epilepsi", "HEALTH"),
    # news: "Full Name, 54, ..." is a record's subject
    ("Gareth Pryce, 61, a longtime Labour Party activist, spoke at the rally.", "POLITICAL_OPINION"),
]

EXTRA_NEGATIVES = [
    "Swinger kulüpleri hakkında bir belgesel izledim.",
    "The clinic's PrEP campaign starts next month.",
    "Rinoplasti fiyatları bu yıl arttı.",
    "Biyometri alanında yeni bir yüksek lisans programı açıldı.",
    "Paternity test kits are sold in most pharmacies.",
    "Hümanist felsefe Rönesans'ta doğdu.",
    "Sosyal demokrat partiler Avrupa'da oy kaybediyor.",
    "Methodist churches in Wales are closing.",
    "Eğer oruç tutarsanız bol su için.",
    "If you wear a hijab, the pool allows swim hijabs.",
    "Customers asked how Islamic mortgages work.",
    "Sayın yetkili, sendika üyeliği hakkında bilgi almak istiyorum.",
    "Ahıska Türkleri hakkında bir kitap okuyorum.",
    "Kara kedi yolun karşısına geçti.",
    "Zafer Bey toplantıya geç kaldı.",
    "Heritage sites across Europe reopened.",
    "Diyabet ise dünyada hızla artıyor.",
    "The Ethiopian restaurant near the station has closed.",
    "Şartlı tahliye düzenlemesi Meclis'te görüşülüyor.",
]


@pytest.mark.parametrize("sentence, category", EXTRA_POSITIVES)
def test_extra_vocabulary_and_attribution_is_found(recognizer, sentence, category):
    assert category in [c for _, c in findings(recognizer, sentence)], sentence


@pytest.mark.parametrize("sentence", EXTRA_NEGATIVES)
def test_extra_vocabulary_look_alike_is_not_a_finding(recognizer, sentence):
    assert findings(recognizer, sentence) == [], sentence


def test_extra_vocabulary_file_is_read():
    phrases = {c.phrase for c in load_cues()}
    assert {"swinger*", "hümanist*", "biyometri*", "ahıska*", "adventist*"} <= phrases


def test_an_if_after_the_cue_opens_another_clause_in_english(recognizer):
    # the condition comes first in English: an "if" later in the sentence does not make the cue hypothetical
    assert findings(recognizer, "I'm the UNISON steward for our ward - if anything goes wrong, call me.") == [
        ("UNISON", "UNION_MEMBERSHIP")
    ]
    assert findings(recognizer, "If I joined UNISON, would the fee come out of my pay?") == []


def test_of_a_capitalised_people_origin_states_ethnic_origin(recognizer):
    """'of ? origin': '?' is any capitalised word, so no list of nationalities is needed."""
    person = SimpleNamespace(label_="PERSON", start_char=0, end_char=14)
    text = "Marta Wiśniewa is of Kashubian descent, her manager said."
    assert findings(recognizer, text, nlp_artifacts=SimpleNamespace(entities=[person])) == [
        ("of Kashubian descent", "ETHNIC_ORIGIN")
    ]
    # lower case is not a people: "a fever of unknown origin"
    assert all(category != "ETHNIC_ORIGIN" for _, category in findings(recognizer, "My son had a fever of unknown origin."))


def test_a_wildcard_needs_a_case_sensitive_phrase_with_a_fixed_first_word(tmp_path):
    from pipeline.scan.special import CueLexiconError, load_cues

    for cue in ('{cue: "of ? origin"}', '{cue: "? origin", case_sensitive: true}'):
        path = tmp_path / "cues.yaml"
        path.write_text("".join(f"{c}:\n  - {cue}\n" for c in SPECIAL_CATEGORIES), encoding="utf-8")
        with pytest.raises(CueLexiconError, match=r"'\?'"):
            load_cues(path)


def test_a_cue_tagged_alone_as_a_person_is_still_a_cue(recognizer):
    """An NER that tags "Jew" alone as PERSON does not hide it; a longer name holding a cue still does."""
    text = "Daniel asked for Friday afternoons off as an observant Jew."
    jew = text.index("Jew")
    ents = [SimpleNamespace(label_="PERSON", start_char=0, end_char=6),
            SimpleNamespace(label_="PERSON", start_char=jew, end_char=jew + 3)]
    assert ("Jew", "RELIGION") in findings(recognizer, text, nlp_artifacts=SimpleNamespace(entities=ents))
    text = "Please forward this to William Church, he has diabetes."
    name = SimpleNamespace(label_="PERSON", start_char=text.index("William"), end_char=text.index(","))
    assert findings(recognizer, text, nlp_artifacts=SimpleNamespace(entities=[name])) == [("diabetes", "HEALTH")]


def test_turkish_first_person_participle_in_the_clause_attributes(recognizer):
    assert findings(recognizer, "Geçen ay CHP'ye yaptığım bağışın makbuzunu gönderir misiniz?") == [
        ("CHP", "POLITICAL_OPINION")
    ]
    # a verb of knowing or reading is not a disclosure
    assert findings(recognizer, "Bildiğim kadarıyla diyabet genetik geçiş gösterebiliyor.") == []


def test_full_name_with_age_and_sex_names_a_record_subject(recognizer):
    text = "Kardiyoloji polikliniği - Serdar Yılmazer, 61E.\nAnjiyo sonrası stent takılmış, klopidogrel başlandı."
    assert {category for _, category in findings(recognizer, text)} == {"HEALTH"}
