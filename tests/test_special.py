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
