"""The conversations: system personas, greetings, and one script per support situation.

A scenario is data: a few exchanges, each a set of user templates and a set of agent
templates per language (``tr``, ``en``, and ``mix`` for Turkish–English code-switching;
a missing ``mix`` falls back to ``tr``). ``{slot}`` names a value drawn for the record
(see :mod:`pipeline.sample.corpus`), so the same phone number can be typed by the
customer and read back by the agent in another spelling.

Agent templates may only read back what the customer has said, or what a company has
on file (the registered phone, the e-mail, the last four card digits); the generator
filters them accordingly, so an agent never "repeats" an address nobody gave.

Conventions the templates keep, because a detector is scored on them:
- a date of birth always stands next to a cue ("doğum tarihim", "D.T.", "born on");
- a VKN always stands next to "VKN", "vergi no" or "vergi kimlik";
- a passport number always stands next to "pasaport"/"passport".
"""

from __future__ import annotations

from dataclasses import dataclass

Templates = dict[str, tuple[str, ...]]

COMPANIES = {"bank": "Anka Bank", "shop": "Kervan", "clinic": "Yeşilada Tıp Merkezi"}

SYSTEM_PROMPTS: dict[str, Templates] = {
    "bank": {
        "tr": (
            "Sen Anka Bank'ın dijital müşteri hizmetleri asistanısın. Müşterilere nazik, kısa ve net yanıt ver; kart, "
            "hesap, kredi ve para transferi konularında yardımcı ol, gerektiğinde kimlik doğrulaması iste ve her "
            "yanıtta bir sonraki adımı açıkça söyle.",
            "Anka Bank müşteri temsilcisi olarak yazıyorsun. Saygılı ve çözüm odaklı ol, bankacılık terimlerini sade "
            "bir dille açıkla, müşteriyi gereksiz bilgi paylaşmaması konusunda uyar.",
        ),
        "en": (
            "You are the customer support assistant of Anka Bank, a retail bank in Türkiye. Be polite, brief and "
            "clear; help with cards, accounts, loans and transfers, verify identity when needed and always state the "
            "next step.",
            "You write as an Anka Bank support agent. Be courteous and solution-oriented, explain banking terms "
            "plainly and remind customers not to overshare sensitive details.",
        ),
    },
    "shop": {
        "tr": (
            "Sen Kervan online alışveriş sitesinin müşteri destek asistanısın. Sipariş, kargo, iade, ödeme ve fatura "
            "sorularına samimi ama profesyonel bir dille yanıt ver; her zaman somut bir sonraki adım öner.",
            "Kervan müşteri hizmetleri adına yazıyorsun. Kısa cümleler kur, özür dilemen gerekiyorsa dile, sorunu "
            "çözmek için ne yaptığını ve müşterinin ne yapması gerektiğini söyle.",
        ),
        "en": (
            "You are the support assistant of Kervan, an online shop in Türkiye. Answer questions about orders, "
            "delivery, returns, payments and invoices in a friendly, professional tone and always offer a concrete "
            "next step.",
        ),
    },
    "clinic": {
        "tr": (
            "Sen Yeşilada Tıp Merkezi'nin hasta hizmetleri asistanısın. Randevu, sonuç, faturalandırma ve hasta kabul "
            "konularında yardımcı ol; tıbbi tavsiye verme, acil durumlarda 112'ye yönlendir ve hastalara her zaman "
            "nazik davran.",
            "Yeşilada Tıp Merkezi hasta iletişim birimi adına yazıyorsun. Kısa, anlaşılır ve empatik ol; teşhis koyma, "
            "randevu ve evrak işlerinde bir sonraki adımı açıkça belirt.",
        ),
        "en": (
            "You are the patient services assistant of Yeşilada Medical Centre in Türkiye. Help with appointments, "
            "results, billing and registration; never give medical advice, direct emergencies to 112 and always be "
            "kind.",
        ),
    },
}

GREETINGS_NAMED: Templates = {
    "tr": (
        "Merhaba {hon}, {company} müşteri hizmetlerine hoş geldiniz. ",
        "Merhaba {hon}! ",
        "İyi günler {hon}, size yardımcı olmaktan memnuniyet duyarım. ",
        "Merhaba {hon}, yazdığınız için teşekkür ederiz. ",
    ),
    "en": (
        "Hello {hon}, thank you for contacting {company}. ",
        "Hi {hon}! ",
        "Good afternoon {hon}, thanks for reaching out. ",
    ),
}
GREETINGS_ANON: Templates = {
    "tr": ("Merhaba, {company} müşteri hizmetlerine hoş geldiniz. ", "Merhaba! ", "İyi günler, ",
           "Merhaba, yazdığınız için teşekkür ederiz. "),
    "en": ("Hello, thank you for contacting {company}. ", "Hi there! ", "Good afternoon, thanks for reaching out. "),
}
CLOSINGS: Templates = {
    "tr": (" Başka bir konuda yardımcı olabilir miyim?", " İyi günler dileriz.", " Başka bir sorunuz olursa buradayım.",
           " Bizi tercih ettiğiniz için teşekkür ederiz.", ""),
    "en": (" Is there anything else I can help you with?",
           " Have a great day.", " Let me know if you need anything else.", ""),
}


@dataclass(frozen=True)
class Branch:
    """What the customer may say at this point, and the agent replies that answer *that*."""

    user: Templates
    agent: Templates


@dataclass(frozen=True)
class Exchange:
    """One user turn and the agent's reply; a branch is picked first, then a template in it."""

    branches: tuple[Branch, ...]


@dataclass(frozen=True)
class Scenario:
    name: str
    domain: str
    exchanges: tuple[Exchange, ...]
    pii_free: bool = False


def _x(user: Templates, agent: Templates) -> Exchange:
    return Exchange((Branch(user, agent),))


def _alt(*exchanges: Exchange) -> Exchange:
    """An exchange whose user turns differ in intent, so each keeps its own replies."""
    return Exchange(tuple(b for e in exchanges for b in e.branches))


# ----------------------------------------------------------------------------------- bank

BANK = (
    Scenario("lost_card", "bank", (
        _x(
            {"tr": ("Merhaba, ben {name}. Kredi kartım çalındı, hemen kapatabilir misiniz? TC kimlik numaram {tckn}.",
                    "İyi günler, kartımı kaybettim. Adım {name}, TCKN: {tckn}. Kart numarası {card} idi.",
                    "Acil! {card} numaralı kartım çalındı. {name}, T.C. {tckn}",
                    "Merhaba, eşim adına yazıyorum: {other_gen} kredi kartı çalındı. Benim adım {name}, TCKN {tckn}.",
                    "ben {first}, cüzdanımla birlikte kartım da çalındı galiba. tc no {tckn}, kayıtlı telefonum "
                    "{phone}"),
             "en": ("Hi, this is {name}. My credit card was stolen this morning, please block it. My Turkish ID number "
                    "is {tckn}.",
                    "Hello, I lost my debit card somewhere in Kadıköy. Card number {card}. Name: {name}."),
             "mix": ("Hi, kartım çalındı, can you block it asap? Ben {name}, TC no {tckn}.",
                     "Merhaba, card'ımı kaybettim sanırım. {name}, kimlik no {tckn}. Please help.")},
            {"tr": ("Kimlik doğrulamanız tamamlandı. Sonu {card_last4} ile biten kartınızı güvenliğiniz için kullanıma "
                    "kapattık. Yeni kartınızı kayıtlı adresinize mi gönderelim, yoksa farklı bir adres mi belirtmek "
                    "istersiniz?",
                    "Kartınızı hemen bloke ettik; son işlemlerinizde şüpheli bir harcama görünmüyor. Güvenliğiniz için "
                    "kart numaranızın tamamını yazışmalarda paylaşmamanızı rica ederiz. Yeni kart için teslimat "
                    "adresinizi teyit eder misiniz?",
                    "Bilgileriniz için teşekkürler. Kartınız kullanıma kapatıldı ve {phone} numaranıza bilgilendirme "
                    "SMS'i gönderildi. Yeni kartınızı hangi adrese gönderelim?"),
             "en": ("Your identity is verified and the card ending in {card_last4} is now blocked. Should we send the "
                    "replacement to your registered address or to a different one?",
                    "I've blocked the card and sent a confirmation SMS to {phone}. For your security, please don't "
                    "share full card numbers in chat. Where should we deliver the new card?")},
        ),
        _x(
            {"tr": ("Yeni adresim {address}, oraya gönderebilir misiniz?",
                    "Kayıtlı adresim değişti, şu an {address} adresinde oturuyorum.",
                    "Adres: {address}. Kurye gelmeden önce {phone} numaramdan arasın lütfen."),
             "en": ("Please send it to {address}.",
                    "I've moved, my new address is {address}. You can call me on {phone}."),
             "mix": ("Yeni adresim {address}, delivery'den önce {phone} numarasından arayın please.",)},
            {"tr": ("Teşekkürler {hon}. Yeni kartınız {address} adresine 3-5 iş günü içinde kurye ile teslim edilecek; "
                    "kurye teslimattan önce {phone} numaranızdan size ulaşacak.",
                    "Adresinizi güncelledik {hon}. Kartınız hazırlandığında {phone_masked} numaranıza SMS ile bilgi "
                    "vereceğiz. Acil durumlarda 7/24 {callcenter} numaralı çağrı merkezimize ulaşabilirsiniz.",
                    "Adresiniz güncellendi; yeni kartınız 3-5 iş günü içinde elinizde olacak."),
             "en": ("Thank you {hon}. Your new card will be couriered to {address} within 3-5 business days, and the "
                    "courier will call {phone} before delivery.",
                    "Address updated. Your new card will arrive within 3-5 business days; for urgent issues call us "
                    "24/7 on {callcenter}.")},
        ),
    )),
    Scenario("transfer", "bank", (
        _x(
            {"tr": ("Merhaba, ben {name}. Dün {other_dat} {amount} EFT yaptım ama karşı tarafa ulaşmamış. Alıcı IBAN: "
                    "{iban2}",
                    "{iban2} numaralı IBAN'a gönderdiğim havale geri döndü. Alıcı {other}, ben de {name}. Sebebi "
                    "nedir?",
                    "İyi günler, ben {name}. Hesabımdan {other_dat} {amount} gönderilmiş görünüyor ama ben böyle bir "
                    "işlem yapmadım! Müşteri numaram {custno}."),
             "en": ("Hi, I'm {name}. I sent {amount} to {other} yesterday (IBAN {iban2}) but it hasn't arrived.",),
             "mix": ("Selam, ben {name}. {other_dat} transfer yaptım ama hâlâ pending görünüyor. IBAN {iban2}, amount "
                     "{amount}.",)},
            {"tr": ("Kontrol ettik {hon}; {iban2} IBAN'ına yapılan {amount} tutarındaki işleminiz alıcı bankada isim "
                    "uyuşmazlığı nedeniyle beklemede. Alıcının adının {other} olarak doğru yazıldığını teyit eder "
                    "misiniz?",
                    "Talebinizi aldık {hon}. İşlem kaydını inceledik; {other_gen} hesabına giden transfer şu an alıcı "
                    "bankanın kontrolünde. İtiraz kaydı açmamızı ister misiniz?"),
             "en": ("Thanks {hon}. The {amount} transfer to {iban2} is on hold at the receiving bank because the "
                    "recipient name does not match. Can you confirm the recipient is {other}?",)},
        ),
        _alt(
            _x({"tr": ("Evet, alıcı {other}, kendisi kardeşim. Para iade edilecekse benim IBAN'ım {iban}.",),
                "en": ("Yes, the recipient is {other}, a family member. If it bounces back, my own IBAN is {iban}.",)},
               {"tr": ("Teşekkürler {hon}. Talebinizi operasyon ekibimize ilettik; işlem en geç 2 iş günü içinde "
                       "sonuçlanacak ve {phone} numaranıza SMS ile bilgi verilecek.",
                       "Teşekkürler. İşlem alıcı bankaya yeniden iletildi; iade olursa tutar {iban} IBAN'ınıza "
                       "geçecek."),
                "en": ("Thank you {hon}. I've escalated this to our operations team; it will be resolved within 2 "
                       "business days and we'll text you at {phone}.",)}),
            _x({"tr": ("Evet, itiraz kaydı açın. Konuyu avukatım {lawyer} takip edecek, gerekirse {phone} numarasından "
                       "bana ulaşabilirsiniz.",),
                "en": ("Please open a dispute. My lawyer, {lawyer}, will follow up; you can reach me on {phone}.",)},
               {"tr": ("İtiraz kaydınız oluşturuldu {hon}. Süreçle ilgili yazılı bilgilendirme {email} adresinize "
                       "gönderilecek.",
                       "İtiraz kaydınızı açtık; {lawyer} ile yazışmalar için vekâletnamenin bir kopyasını şubemize "
                       "iletmeniz yeterli."),
                "en": ("Your dispute is open, {hon}. We'll send written updates to {email}.",)}),
        ),
    )),
    Scenario("contact_update", "bank", (
        _x(
            {"tr": ("Merhaba, ben {name}. Telefon numaram değişti, yenisi {phone}. E-posta adresimi de {email} olarak "
                    "güncellemek istiyorum. TC: {tckn}",
                    "İletişim bilgilerimi güncellemek istiyorum. Adım {name}, yeni numaram {phone}, e-postam {email}. "
                    "Doğum tarihim {dob}.",
                    "Ekstrelerim eski mail adresime gidiyor. Yeni adresim {email}. {name}, D.T. {dob}"),
             "en": ("Hello, I'm {name} and I'd like to update my contact details. New mobile: {phone}, email: {email}. "
                    "I was born on {dob}.",
                    "Hi, my statements still go to my old email. Please use {email} from now on. Name: {name}, date of "
                    "birth {dob}."),
             "mix": ("Merhaba, ben {name}. Telefonum değişti, new number {phone}. Mail de {email} olsun lütfen.",)},
            {"tr": ("Teşekkürler {hon}. Güvenliğiniz için {phone} numaranıza bir doğrulama kodu gönderdik; kodu bu "
                    "pencereye yazar mısınız?",
                    "Memnuniyetle {hon}. Değişikliği onaylamak için {phone} numarasına tek kullanımlık bir kod "
                    "gönderdik. Kodu paylaşır mısınız?"),
             "en": ("Thank you {hon}. To confirm the change, we've sent a one-time code to {phone}. Could you type it "
                    "here?",)},
        ),
        _x(
            {"tr": ("Kod {otp}. Bir de adresim değişti: {address}", "Kod geldi: {otp}."),
             "en": ("The code is {otp}. Also, I've moved to {address}.", "Got it, the code is {otp}.")},
            {"tr": ("Teşekkürler {hon}, bilgileriniz güncellendi. Hesap ekstreleriniz bundan sonra {email} adresine "
                    "gönderilecek.",
                    "Kod doğrulandı. Adresiniz {address} olarak güncellendi; ekstreleriniz {email} adresine gelecek."),
             "en": ("Thanks {hon}, all set. Your statements will now go to {email}.",
                    "Code verified. Your address is now {address}.")},
        ),
    )),
    Scenario("corporate", "bank", (
        _x(
            {"tr": ("Şirketimiz adına ticari hesap açmak istiyoruz. Firma: {firm}, vergi kimlik numaramız {vkn}, "
                    "yetkili {name}.",
                    "Merhaba, {firm} olarak POS cihazı başvurusu yapacağız. VKN: {vkn}. İletişim için {phone} / "
                    "{email}. {name}",
                    "Vergi no {vkn} olan firmamızın kredi limitini öğrenebilir miyim? Ben muhasebeden {name}.",
                    "İyi günler, {firm} muhasebesinden {name}. Vergi kimlik no: {vkn}. Maaş ödemelerimiz için toplu "
                    "ödeme hizmeti almak istiyoruz."),
             "en": ("We want to open a business account for {firm}; our tax ID (VKN) is {vkn}. Contact person: {name}, "
                    "{phone}.",),
             "mix": ("Merhaba, {firm} için corporate account açmak istiyoruz. VKN {vkn}, contact person {name}.",)},
            {"tr": ("Teşekkürler {hon}. {vkn} vergi kimlik numarasıyla ön kontrolü yaptık; {firm} için kurumsal "
                    "müşteri temsilcimiz {phone} numarasından sizinle iletişime geçecek.",
                    "Başvurunuzu aldık {hon}. Vergi levhası, imza sirküleri ve ticaret sicil gazetesiyle şubemize "
                    "gelmeniz yeterli. Şirket adresinizi ve diğer imza yetkililerini paylaşır mısınız?"),
             "en": ("Thank you {hon}. We've pre-checked tax number (VKN) {vkn}; a business banking advisor will call "
                    "you at {phone}.",
                    "Thanks {hon}. Please share your company address and the other authorised signatories.")},
        ),
        _x(
            {"tr": ("Şirket adresimiz {address}. Ayrıca ortağımız {other} imza yetkilisi, TC kimlik numarası {tckn2}.",
                    "Adresimiz {address}. Diğer yetkili {other_hon}, telefonu {phone2}."),
             "en": ("Our office is at {address}. My partner {other} is also a signatory, Turkish ID {tckn2}.",)},
            {"tr": ("Teşekkürler {hon}. {other_gen} imza yetkisini ve {address} adresini başvuruya ekledik. Belgelerle "
                    "birlikte şubemize geldiğinizde hesabınız aynı gün açılacak.",
                    "Bilgileri kaydettik. Sözleşmeler {email} adresinize gönderilecek; ıslak imza için {other_hon} "
                    "şubeye gelmeli."),
             "en": ("Thank you {hon}. We've added {other} as a signatory and {address} as the company address.",)},
        ),
    )),
    Scenario("loan", "bank", (
        _x(
            {"tr": ("Taşıt kredisi için başvurmak istiyorum. {plate} plakalı aracımı takasa vereceğim. Adım {name}, "
                    "doğum tarihim {dob}.",
                    "Merhaba, ihtiyaç kredisi başvurusu yapmak istiyorum. {name}, TC {tckn}, D.T. {dob}, cep {phone}.",
                    "Kredi başvurum ne durumda? TCKN {tckn}, doğum tarihi: {dob}. {name}",
                    "Merhaba, {plate} plakalı aracımı satıp taşıt kredisiyle yenisini almak istiyorum. {name}, doğum "
                    "tarihim {dob}."),
             "en": ("I'd like to apply for a car loan. My current car's plate is {plate}. I'm {name}, born on {dob}, "
                    "Turkish ID {tckn}.",
                    "Hi, I'm {name}. What's the status of my personal loan application? Date of birth: {dob}."),
             "mix": ("Kredi application'ım ne durumda? {name}, doğum tarihim {dob}.",
                     "Selam, {plate} plakalı arabamı trade-in yapıp taşıt kredisi almak istiyorum. Ben {name}.")},
            {"tr": ("Ön başvurunuz alındı {hon}. Değerlendirme için gelir belgenizi mobil uygulamadan yüklemeniz "
                    "gerekiyor; sonuç {phone} numaranıza SMS ile bildirilecek.",
                    "Teşekkürler {hon}. {plate} plakalı aracınız için ekspertiz randevusu oluşturabiliriz. Kefil "
                    "olacak biri var mı?",
                    "Başvurunuz kredi komitesinde {hon}; 2 iş günü içinde sonuçlanacak. Doğum tarihinizi {dob} olarak "
                    "teyit ettik."),
             "en": ("Thank you {hon}. Your pre-application is in; please upload proof of income in the app and we'll "
                    "text the result to {phone}.",
                    "Thanks {hon}. We can arrange an inspection for the vehicle with plate {plate}. Will anyone "
                    "co-sign the loan?")},
        ),
        _x(
            {"tr": ("Eşim {other} kefil olacak, TC'si {tckn2}, telefonu {phone2}.",
                    "Kefilim {other_rel} {other}. Yeni aracın plakası da belli oldu: {plate2}."),
             "en": ("My partner {other} will co-sign, phone {phone2}.",)},
            {"tr": ("Teşekkürler {hon}. {other_gen} kefalet onayı için {phone2} numarasına SMS gönderdik; onay "
                    "geldiğinde başvurunuz tamamlanacak.",
                    "Bilgileri ekledik {hon}. Sözleşmeniz hazır olduğunda {email} adresinize gönderilecek."),
             "en": ("Thanks {hon}. We've texted {phone2} so that {other} can approve the guarantee.",)},
        ),
    )),
    Scenario("passport", "bank", (
        _alt(
            _x({"tr": ("Yurt dışına çıkacağım, kartımın yurt dışı kullanımını açar mısınız? Pasaport numaram "
                       "{passport}, ben {name}.",
                       "Seyahat sigortalı kart için pasaport bilgim lazımmış: {passport}. {name}, TC {tckn}."),
                "en": ("Hi, I'm travelling next week and need my card enabled abroad. Name {name}, passport no. "
                       "{passport}.",),
                "mix": ("Hi, ben {name}. Yurt dışına gidiyorum, kartımı abroad kullanıma açar mısınız? Pasaport no "
                        "{passport}.",)},
               {"tr": ("Teşekkürler {hon}. {passport} numaralı pasaportunuzla kaydınızı güncelledik; kartınız yurt "
                       "dışı kullanıma açıldı. Seyahat süresince {phone} numaranıza işlem bildirimleri gönderilecek. "
                       "Yurt dışındayken adres ya da telefon değişikliği olursa bize iletebilirsiniz.",),
                "en": ("Thank you {hon}. We've recorded passport {passport}; your card is now enabled for use abroad. "
                       "Is there an address and phone number where we can reach you while you're away?",)}),
            _x({"tr": ("Merhaba, döviz hesabı açmak için pasaport no {passport} yeterli mi? Yabancı uyrukluyum, adım "
                       "{name}.",),
                "en": ("Hello, I'm {name}. I moved to Istanbul last month. Can I open an account with my passport? "
                       "Passport number {passport}.",)},
               {"tr": ("Memnuniyetle {hon}. Hesap açılışı için pasaportunuzun aslı ve adres beyanı yeterli. "
                       "Türkiye'deki adresinizi ve telefon numaranızı paylaşır mısınız?",),
                "en": ("Certainly {hon}. To open the account we need your passport and proof of address. Could you "
                       "share your address in Türkiye and a phone number?",)}),
        ),
        _x(
            {"tr": ("Adresim {address}, telefonum {phone}.",),
             "en": ("My address here is {address}, and my phone is {phone}.",)},
            {"tr": ("Teşekkürler {hon}. Ön kaydınız {address} adresiyle oluşturuldu; şube randevusu {phone} numaranıza "
                    "SMS ile gelecek.",),
             "en": ("Thanks {hon}. Your pre-registration is done with the address {address}; we'll text the branch "
                    "appointment to {phone}.",)},
        ),
    )),
    Scenario("suspicious_login", "bank", (
        _x(
            {"tr": ("İnternet bankacılığıma {ip} IP adresinden giriş yapılmış, ben yapmadım! Ben {name}, TC {tckn}.",
                    "Merhaba, uygulamaya giriş yapamıyorum, 'şüpheli giriş' uyarısı aldım. Giriş {ip} adresinden "
                    "görünüyor. Adım {name}."),
             "en": ("Someone logged into my online banking from IP {ip}. It wasn't me! I'm {name}.",),
             "mix": ("Acil, hesabıma {ip} IP adresinden login olunmuş, ben değilim. {name}, TCKN {tckn}.",)},
            {"tr": ("Geçmiş olsun {hon}. Güvenliğiniz için internet bankacılığı şifrenizi bloke ettik ve {ip} "
                    "adresinden açılan oturumu sonlandırdık. Yeni şifre için {phone} numaranıza SMS gönderdik.",
                    "Hemen kontrol ettik {hon}. {ip} adresinden yapılan girişte herhangi bir para transferi yok; yine "
                    "de şifrenizi sıfırlamanızı öneririz."),
             "en": ("I'm sorry to hear that, {hon}. We've ended the session from {ip} and locked your online banking "
                    "password; a reset link has been sent to {phone}.",)},
        ),
        _alt(
            _x({"tr": ("Benim normalde bağlandığım IP {ip2}, evden giriyorum. Şifre SMS'i geldi, teşekkürler.",),
                "en": ("My usual IP is {ip2}, I always log in from home.",)},
               {"tr": ("Not aldık {hon}; {ip2} adresini güvenilir cihazlarınıza ekledik. Şüpheli bir işlem görürseniz "
                       "7/24 {callcenter} numaralı hattımızı arayabilirsiniz.",
                       "Not aldık; {ip2} adresini güvenilir cihazlarınıza ekledik."),
                "en": ("Noted, {hon}. We've marked {ip2} as trusted. If you notice anything suspicious, call us 24/7 "
                       "on {callcenter}.",
                       "Noted. We've marked {ip2} as trusted.")}),
            _x({"tr": ("SMS gelmedi, numaram değişti: {phone}.",),
                "en": ("No text arrived; my number has changed to {phone}.",)},
               {"tr": ("Numaranızı {phone} olarak güncelledik; doğrulama SMS'i birkaç dakika içinde gelecek.",),
                "en": ("We've updated your number to {phone}; the verification text will arrive in a few minutes.",)}),
        ),
    )),
)

# ----------------------------------------------------------------------------------- shop

SHOP = (
    Scenario("delivery", "shop", (
        _x(
            {"tr": ("Siparişim {order} hâlâ gelmedi. {name}, telefon {phone}, adres {address}.",
                    "Merhaba, ben {name}. {order} numaralı siparişim 'teslim edildi' görünüyor ama elime ulaşmadı. "
                    "Adresim {address}.",
                    "kargom nerde?? {order} sipariş no. adres {address} tel {phone}",
                    "Takipte kargo {name_dat} teslim edildi yazıyor ama bana gelmedi! Sipariş {order}, telefonum "
                    "{phone}."),
             "en": ("Hi, my order {order} still hasn't arrived. Name: {name}, address: {address}, phone: {phone}.",),
             "mix": ("Selam, {order} numaralı order'ım hâlâ gelmedi. Ben {name}, address {address}.",)},
            {"tr": ("Özür dileriz {hon}. Kargonuz dağıtım şubesinde bekliyor; kurye {phone} numaranızdan size "
                    "ulaşamamış. Teslimat adresinizi {address} olarak teyit ediyor musunuz?",
                    "Kontrol ettim {hon}; {order} numaralı siparişiniz yanlış şubeye aktarılmış. Yarın öğlene kadar "
                    "{address} adresine teslim edilecek.",
                    "Siparişinizi kontrol ettim. Kargo firmasıyla görüştük; paketiniz yarın teslim edilecek."),
             "en": ("I'm sorry about that, {hon}. The parcel is at the local depot; the courier couldn't reach you on "
                    "{phone}. Can you confirm the delivery address is {address}?",
                    "I've checked your order. The parcel was sent to the wrong depot and will be delivered tomorrow.")},
        ),
        _x(
            {"tr": ("Evet doğru. Evde yoksam komşum {other} teslim alabilir.",
                    "Adres doğru ama kapı numarası eksik olabilir: {address}. Ayrıca {other_rel} {other} teslim "
                    "alabilir, telefonu {phone2}."),
             "en": ("Yes, that's right. If I'm out, my neighbour {other} can take it.",)},
            {"tr": ("Not ekledik; evde olmadığınızda paket {other_dat} teslim edilebilecek. Kargo takip bağlantısını "
                    "{email} adresinize gönderdik.",
                    "Teşekkürler. Adresinizi güncelledik; kurye gelmeden önce {phone2} numarasını da arayacak."),
             "en": ("Done. I've added a note that {other} may receive the parcel. The tracking link has been emailed "
                    "to {email}.",)},
        ),
    )),
    Scenario("account_login", "shop", (
        _x(
            {"tr": ("Hesabıma giremiyorum, e-postam {email}. Bir de {ip} IP adresinden giriş yapıldı diye mail geldi, "
                    "ben değilim.",
                    "Şifremi unuttum, sıfırlama maili gelmiyor. Kayıtlı mailim {email}, adım {name}.",
                    "Merhaba, hesabım kilitlenmiş. 'Olağandışı giriş: {ip}' diye uyarı geldi. E-posta: {email}"),
             "en": ("I can't log in. My account email is {email}. I got an alert about a login from {ip}.",
                    "Hi, I'm {name}. I forgot my password and the reset email never arrives. My email is {email}."),
             "mix": ("Hesabıma login olamıyorum, password reset maili de gelmiyor. Email: {email}. Şüpheli login {ip} "
                     "adresinden olmuş.",)},
            {"tr": ("Güvenliğiniz için hesabınızı geçici olarak kilitledik ve {ip} adresinden açılan oturumu "
                    "sonlandırdık. Şifre sıfırlama bağlantısını {email} adresine yeniden gönderdik.",
                    "Kontrol ettik; {email} adresine gönderilen mailler spam klasörüne düşüyor olabilir. Yeni bir "
                    "sıfırlama bağlantısı gönderdik."),
             "en": ("For your security we've locked the account and ended the session from {ip}. A new reset link is "
                    "on its way to {email}.",
                    "We've checked: emails to {email} may be landing in spam. We've sent a fresh reset link.")},
        ),
        _alt(
            _x({"tr": ("Teşekkürler. Ben hep evden giriyorum, IP'm {ip2} gibi bir şey.",),
                "en": ("Thanks. I normally log in from home, my IP is {ip2}.",)},
               {"tr": ("Not aldık; {ip2} adresini güvenilir cihazlar listenize ekledik. İki adımlı doğrulamayı "
                       "açmanızı öneririz.",),
                "en": ("Noted; {ip2} is now on your trusted list. We recommend turning on two-step verification.",)}),
            _x({"tr": ("Link geldi, teşekkürler. Telefonumu da ekleyeyim: {phone}.",),
                "en": ("The link worked, thanks. Please add my phone too: {phone}.",)},
               {"tr": ("Numaranız {phone} olarak eklendi; bundan sonra girişlerde SMS doğrulaması isteyeceğiz.",),
                "en": ("Your number {phone} has been added; we'll ask for an SMS code at each new sign-in.",)}),
        ),
    )),
    Scenario("refund", "shop", (
        _x(
            {"tr": ("İade ettiğim ürünün parası yatmadı. {order} numaralı sipariş. IBAN'ım {iban}, hesap sahibi "
                    "{name}.",
                    "Merhaba, kapıda ödemeli siparişimi iade ettim, para iadesi için IBAN: {iban} ({name})."),
             "en": ("Hi, I returned order {order} but haven't got my refund. Please send it to IBAN {iban}, account "
                    "holder {name}.",),
             "mix": ("İade ettim ama refund gelmedi. IBAN {iban}, hesap sahibi {name}.",)},
            {"tr": ("Teşekkürler {hon}. İadeniz onaylandı; {amount} tutarı {iban} IBAN'ınıza 3 iş günü içinde "
                    "aktarılacak.",
                    "Özür dileriz {hon}; iade tutarı sistemde yanlış hesaba yönlendirilmiş. {iban} numaralı IBAN'a "
                    "yeniden gönderim talimatı verdik."),
             "en": ("Thanks {hon}. Your refund of {amount} has been approved and will reach {iban} within 3 business "
                    "days.",)},
        ),
        _alt(
            _x({"tr": ("Hesap eşimin adına olabilir, {other} olarak görünür.",),
                "en": ("The account may show my partner's name, {other}.",)},
               {"tr": ("Sorun değil {hon}; alıcı adını {other} olarak güncelledik.",
                       "Sorun değil; alıcı adını {other} olarak güncelledik."),
                "en": ("No problem, {hon}; we've set the beneficiary name to {other}.",
                       "No problem; the beneficiary name is now {other}.")}),
            _x({"tr": ("Tamam. Faturayı da {email} adresine atabilir misiniz?",),
                "en": ("OK. Could you also email the invoice to {email}?",)},
               {"tr": ("Faturanız {email} adresine gönderildi {hon}.", "Faturanız {email} adresine gönderildi."),
                "en": ("The invoice has been sent to {email}.",)}),
        ),
    )),
    Scenario("invoice", "shop", (
        _x(
            {"tr": ("Faturayı şirket adına kesebilir misiniz? {firm}, vergi dairesi Kadıköy, VKN {vkn}.",
                    "Kurumsal fatura lazım: {firm}, vergi no {vkn}, adres {address}.",
                    "Bireysel fatura için TC kimlik numaram {tckn}, ad soyad {name}.",
                    "E-arşiv faturada TC kimlik no yanlış yazılmış, doğrusu {tckn}. Ben {name}."),
             "en": ("Could you issue the invoice to my company? {firm}, tax number (VKN) {vkn}.",
                    "Please put my Turkish ID {tckn} on the invoice, name {name}."),
             "mix": ("Invoice'u şirket adına kesebilir misiniz? {firm}, vergi kimlik no {vkn}.",)},
            {"tr": ("Faturanız {firm} adına, {vkn} vergi kimlik numarasıyla yeniden düzenlendi ve {email} adresine "
                    "gönderildi.",
                    "Memnuniyetle {hon}. Faturanızı {tckn} kimlik numarasıyla yeniden düzenledik; e-posta adresinize "
                    "iletilecek.",
                    "Talebinizi aldık. Faturanız 24 saat içinde yeniden düzenlenip e-posta adresinize gönderilecek."),
             "en": ("Done. The invoice has been reissued to {firm} with tax number {vkn} and emailed to {email}.",
                    "Thanks {hon}. We've reissued the invoice with ID number {tckn}.",
                    "We've received your request; the corrected invoice will be emailed within 24 hours.")},
        ),
        _x(
            {"tr": ("Fatura adresi de {address} olmalı, lütfen düzeltin.",),
             "en": ("The billing address should be {address}.",)},
            {"tr": ("Fatura adresinizi {address} olarak güncelledik.",),
             "en": ("The billing address is now {address}.",)},
        ),
    )),
    Scenario("payment", "shop", (
        _x(
            {"tr": ("Ödeme yaparken kartım reddedildi: {card}. Neden olabilir?",
                    "Merhaba, ben {name}. {card} numaralı kartla ödeme yaparken 3D Secure kodu gelmiyor."),
             "en": ("My card {card} keeps getting declined at checkout. I'm {name}.",),
             "mix": ("Checkout'ta kartım decline oluyor: {card}. Neden?",)},
            {"tr": ("Güvenliğiniz için kart numaranızın tamamını paylaşmamanızı rica ederiz. Sonu {card_last4} ile "
                    "biten kartınız için red kararı bankanızdan gelmiş; bankanızla görüşmenizi öneririz.",
                    "Kontrol ettik; ödeme sayfasında sorun görünmüyor. 3D Secure kodu bankanızın kayıtlı numaranıza "
                    "gönderilir. Bankanızda kayıtlı numaranızı kontrol edebilir misiniz?"),
             "en": ("Please don't share full card numbers in chat. The card ending in {card_last4} was declined by "
                    "your bank, so please contact them.",)},
        ),
        _alt(
            _x({"tr": ("Bankada kayıtlı numaram {phone}, ama SMS gelmiyor.",),
                "en": ("My number on file is {phone} but no SMS arrives.",)},
               {"tr": ("Anladım. {phone} numarasına SMS iletilemediğini bankanıza bildirmenizi öneririz; siparişiniz "
                       "24 saat rezerve edildi.",),
                "en": ("Understood. Please tell your bank that texts to {phone} are not arriving; we've held your "
                       "order for 24 hours.",)}),
            _x({"tr": ("Başka kartla denedim, yine olmadı: {card2}.",),
                "en": ("I tried another card, {card2}, and it failed too.",)},
               {"tr": ("Bu kart için de banka onayı gelmedi; havale ile ödeme seçeneğini deneyebilirsiniz. Lütfen kart "
                       "numaralarını sohbette paylaşmayın.",),
                "en": ("Your bank declined that card as well; you could pay by bank transfer instead. Please don't "
                       "post card numbers in chat.",)}),
        ),
    )),
    Scenario("gift", "shop", (
        _x(
            {"tr": ("{other_rel_cap} {other} için hediye siparişi vereceğim, teslimat adresi {address}, telefonu "
                    "{phone2}. Fatura benim adıma: {name}.",
                    "Arkadaşım {other_dat} sürpriz hediye göndermek istiyorum. Adresi {address}. Paketin üstünde fiyat "
                    "yazmasın lütfen."),
             "en": ("I'd like to send a gift to my friend {other}. Address: {address}, phone {phone2}.",),
             "mix": ("Arkadaşım {other} için gift order veriyorum, adres {address}. Gift note ekleyebilir miyim?",)},
            {"tr": ("Tabii. Siparişinizi {other} adına, {address} adresine hediye paketiyle göndereceğiz; fiyat "
                    "bilgisi pakette yer almayacak.",
                    "Memnuniyetle. Kurye teslimattan önce {phone2} numarasını arayacak."),
             "en": ("Of course. We'll gift-wrap it and deliver to {other} at {address}, with no price on the "
                    "package.",)},
        ),
        _x(
            {"tr": ("Not olarak 'İyi ki doğdun {other_first}!' yazabilir misiniz?",),
             "en": ("Could you add a note: 'Happy birthday, {other_first}!'",)},
            {"tr": ("Notunuzu ekledik. Teslimat durumunu {email} adresinize bildireceğiz.",),
             "en": ("Note added. We'll email delivery updates to {email}.",)},
        ),
    )),
)

# --------------------------------------------------------------------------------- clinic

CLINIC = (
    Scenario("appointment", "clinic", (
        _x(
            {"tr": ("Merhaba, {doctor_abl} randevu almak istiyorum. Ben {name}, TC {tckn}, telefon {phone}.",
                    "{doctor} için randevu var mı? Adım {name}, TC kimlik no {tckn}.",
                    "randevumu ertelemem lazım. {name}, tc {tckn}",
                    "Merhaba, {other_child} için randevu almak istiyorum. Adı {other}, TC kimlik numarası {tckn2}, "
                    "doğum tarihi {dob_child}."),
             "en": ("Hello, I'd like an appointment with {doctor}. I'm {name}, Turkish ID {tckn}, phone {phone}.",
                    "Hi, I need to reschedule my appointment. Name {name}, date of birth {dob}."),
             "mix": ("Merhaba, {doctor_abl} appointment almak istiyorum. Ben {name}, phone {phone}.",)},
            {"tr": ("Teşekkürler {hon}. {doctor} için {appt} tarihine randevunuzu oluşturduk. Randevu bilgisi {phone} "
                    "numaranıza SMS ile gönderildi.",
                    "Randevunuz {appt} olarak güncellendi {hon}. Gelirken kimliğinizi getirmeyi unutmayın. Hatırlatma "
                    "{phone_masked} numaranıza gönderilecek.",
                    "Randevunuz oluşturuldu: {appt}. MHRS üzerinden de işlem yapmak isterseniz {mhrs} numaralı hattı "
                    "arayabilirsiniz."),
             "en": ("Thank you {hon}. You're booked with {doctor} on {appt}. We've texted the details to {phone}.",
                    "Your appointment is now on {appt}. Please bring your ID.")},
        ),
        _alt(
            _x({"tr": ("Doğum tarihim {dob}, sistemde yanlış görünüyor olabilir.",),
                "en": ("Thanks. My date of birth is {dob}, it might be wrong in your system.",)},
               {"tr": ("Kaydınızı kontrol ettik; doğum tarihinizi {dob} olarak düzelttik.",),
                "en": ("We've corrected your date of birth to {dob}.",)}),
            _x({"tr": ("Teşekkürler. Sonuçları {email} adresime gönderebilir misiniz?",),
                "en": ("Thanks. Could you send the results to {email}?",)},
               {"tr": ("Tabii, sonuçlarınız hazır olduğunda {email} adresine şifreli PDF olarak gönderilecek; şifre "
                       "T.C. kimlik numaranızın son 4 hanesi.",),
                "en": ("Of course; the results will be sent to {email} as an encrypted PDF once they are ready.",)}),
        ),
    )),
    Scenario("results", "clinic", (
        _x(
            {"tr": ("Tahlil sonuçlarımı {email} adresine gönderebilir misiniz? TCKN {tckn}.",
                    "Merhaba, ben {name}. Geçen hafta verdiğim kan tahlilinin sonuçları çıktı mı? TC kimlik numaram "
                    "{tckn}.",
                    "MR raporumu almak istiyorum. {name}, doğum tarihim {dob}."),
             "en": ("Could you email my lab results to {email}? My name is {name}, date of birth {dob}.",),
             "mix": ("Test result'larım çıktı mı? {name}, TC {tckn}. Mail'e atabilir misiniz: {email}",)},
            {"tr": ("Sonuçlarınız çıktı {hon}. Kişisel verilerinizin güvenliği için sonuçlarınızı {email} adresine "
                    "şifreli PDF olarak gönderdik; şifre T.C. kimlik numaranızın son 4 hanesi.",
                    "Sonuçlarınız {doctor} tarafından değerlendiriliyor; onaylandığında {phone} numaranıza SMS ile "
                    "bilgi vereceğiz.",
                    "Raporunuz hazır. Kimliğinizle birlikte hasta kabul bankosundan teslim alabilirsiniz."),
             "en": ("Your results are ready, {hon}. We've sent them to {email} as an encrypted PDF.",
                    "Your results are being reviewed by {doctor}; we'll text {phone} once they're signed off.")},
        ),
        _alt(
            _x({"tr": ("Eşim {other} benim yerime alabilir mi?",),
                "en": ("Can my partner {other} pick them up for me?",)},
               {"tr": ("{other} adına vekâlet ya da sizin imzalı onayınız gerekiyor; onay formunu {email} adresine "
                       "gönderdik.",),
                "en": ("{other} can collect them with a consent form signed by you; we've emailed it to {email}.",)}),
            _x({"tr": ("Sonuçlar {doctor_dat} iletilebilir mi? Kontrolde bakacakmış.",),
                "en": ("Could the results be forwarded to {doctor}? I have a follow-up with them.",)},
               {"tr": ("Elbette, sonuçlarınızı {doctor_dat} ilettik.",),
                "en": ("Of course, we've forwarded your results to {doctor}.",)}),
        ),
    )),
    Scenario("billing", "clinic", (
        _x(
            {"tr": ("Özel sigortam muayene ücretini geri ödeyecekmiş. Faturayı {address} adresine gönderebilir "
                    "misiniz? {name}",
                    "Fazla ödeme yapmışım, iadesi için IBAN'ım {iban}. Hasta adı {name}, TC {tckn}."),
             "en": ("I was overcharged for my visit. Please refund to IBAN {iban}, account holder {name}.",),
             "mix": ("Fazla ödeme yaptım, refund için IBAN {iban}. Hasta {name}.",)},
            {"tr": ("Teşekkürler {hon}. Fazla ödenen {amount} tutarı 5 iş günü içinde {iban} IBAN'ınıza iade edilecek.",
                    "Faturanızın aslını {address} adresine kargoladık {hon}; takip numarası {phone} numaranıza SMS ile "
                    "gelecek.",
                    "Talebinizi muhasebe birimimize ilettik; 2 iş günü içinde size dönüş yapılacak."),
             "en": ("Thanks {hon}. The overpaid {amount} will be refunded to {iban} within 5 business days.",
                    "We've passed your request to our accounts team; they will get back to you within 2 business "
                    "days.")},
        ),
        _alt(
            _x({"tr": ("Sigorta şirketi e-fatura istiyor, mailim {email}.",),
                "en": ("My insurer needs an e-invoice, my email is {email}.",)},
               {"tr": ("E-faturanız {email} adresine gönderildi.",),
                "en": ("The e-invoice has been sent to {email}.",)}),
            _x({"tr": ("Faturada adresim eski görünüyor, yenisi {address}.",),
                "en": ("The invoice shows my old address; the new one is {address}.",)},
               {"tr": ("Fatura adresinizi {address} olarak güncelledik.",),
                "en": ("We've updated your billing address to {address}.",)}),
        ),
    )),
    Scenario("foreign_patient", "clinic", (
        _x(
            {"tr": ("Yurt dışında yaşıyorum, tatildeyim. {name}, pasaport no {passport}, doğum tarihim {dob}.",
                    "Merhaba, yabancı uyruklu eşim {other} için muayene istiyoruz; pasaport numarası {passport}."),
             "en": ("Hello, I'm {name}, a tourist staying in Antalya. Passport {passport}, born on {dob}. I need to "
                    "see a doctor today.",
                    "Hi, I'd like to register as a patient. Name: {name}, passport number {passport}, date of birth "
                    "{dob}."),
             "mix": ("Hi, ben {name}, tatildeyim. Pasaport no {passport}. Today doktor görebilir miyim?",)},
            {"tr": ("Kaydınızı {passport} numaralı pasaportla oluşturduk {hon}. {doctor} için {appt} saatinde yer var.",
                    "Kaydı {passport} numaralı pasaportla oluşturduk; muayene için {appt} uygun. Acil bir durum olursa "
                    "{emergency}'yi arayın."),
             "en": ("Hello {hon}. We've registered you with passport {passport}; the first free slot is {appt} with "
                    "{doctor}.",
                    "You're registered; please bring passport {passport} to reception. For emergencies, dial "
                    "{emergency}.")},
        ),
        _x(
            {"tr": ("Otelimin adresi {address}, telefonum {phone}.",),
             "en": ("Great. My hotel is at {address}, and my phone is {phone}.",)},
            {"tr": ("Teşekkürler. {phone} numarasını kaydettik; randevudan bir saat önce hatırlatma gönderilecek.",),
             "en": ("Thank you. We've noted {phone}; a reminder will be sent an hour before.",)},
        ),
    )),
    Scenario("home_visit", "clinic", (
        _x(
            {"tr": ("{other_rel_cap} {other} için evde muayene talep ediyorum. Adres {address}. Benim numaram {phone}.",
                    "{other_rel_cap} {other_hon_gen} kontrol randevusu için evden alınma hizmetiniz var mı? Adres: "
                    "{address}"),
             "en": ("I'd like a home visit for {other_rel} {other}. The address is {address}, my number is {phone}.",)},
            {"tr": ("Geçmiş olsun. {other_gen} ev ziyareti için {appt} tarihine ekip planladık; ekip çıkmadan önce "
                    "{phone} numaranızı arayacak.",
                    "Talebinizi aldık. {address} adresi hizmet bölgemiz içinde; hemşiremiz sizi arayacak."),
             "en": ("We're sorry to hear that. We've scheduled a team to visit {other} on {appt}; they'll call {phone} "
                    "before leaving.",)},
        ),
        _x(
            {"tr": ("{other_rel_gen} TC kimlik numarası {tckn2}, doğum tarihi {dob2}.",),
             "en": ("{other_rel_poss} date of birth is {dob2}.",)},
            {"tr": ("Teşekkürler, kayıt tamamlandı. Acil bir durumda lütfen beklemeden {emergency}'yi arayın.",),
             "en": ("Thank you, the registration is complete. In an emergency, please call {emergency} straight "
                    "away.",)},
        ),
    )),
    Scenario("parking", "clinic", (
        _x(
            {"tr": ("Yarın {doctor} ile randevum var, otoparka {plate} plakalı araçla geleceğim. Kayıt yapabilir "
                    "misiniz? {name}",
                    "Otopark için aracımın plakası {plate}. Randevu {name} adına."),
             "en": ("I have an appointment tomorrow; I'll come by car, plate {plate}. Can you register it for parking? "
                    "Name: {name}.",),
             "mix": ("Yarın appointment'ım var, otopark için plaka {plate}. Ben {name}.",)},
            {"tr": ("Teşekkürler {hon}. {plate} plakalı aracınızı otopark sistemine tanımladık; girişte bariyer "
                    "otomatik açılacak.",
                    "Aracınızı kaydettik {hon}. Randevunuz {appt}; gelmeden önce {phone_masked} numaranıza hatırlatma "
                    "gönderilecek."),
             "en": ("Thanks {hon}. We've registered {plate} for parking; the barrier will open automatically.",)},
        ),
        _x(
            {"tr": ("Eşim de {plate2} plakalı araçla gelebilir.",),
             "en": ("My partner may come in another car, {plate2}.",)},
            {"tr": ("{plate2} plakasını da ekledik.",),
             "en": ("We've added {plate2} as well.",)},
        ),
    )),
)

# ------------------------------------------------------------------------------- PII-free

def _qa(tr_q: str, tr_a: str, en_q: str, en_a: str, mix_q: str | None = None) -> Exchange:
    """A question and its answer, per language (answers must match their own question)."""
    user: Templates = {"tr": (tr_q,), "en": (en_q,)}
    if mix_q:
        user["mix"] = (mix_q,)
    return _x(user, {"tr": (tr_a,), "en": (en_a,)})


_FREE_BANK = Scenario("faq", "bank", (
    _alt(
        _qa("EFT saatleri nelerdir? Hafta sonu gönderim yapılıyor mu?",
            "EFT işlemleri hafta içi 08:30–17:00 arasında gerçekleşir; FAST ile 7/24 anında gönderim yapabilirsiniz.",
            "What are the EFT hours? Can I send money at the weekend?",
            "EFT transfers run on weekdays from 08:30 to 17:00; with FAST you can send money instantly 24/7.",
            "Hi, EFT cut-off saati kaç? Weekend'de gönderim oluyor mu?"),
        _qa("Kredi kartı aidatı ne kadar, aidatsız kartınız var mı?",
            "Anka Classic kartımız ilk yıl aidatsızdır; sonraki yıllarda yıllık harcamanız 60.000 TL'yi aşarsa aidat "
            "alınmaz.",
            "Is there an annual fee on your credit cards?",
            "The Anka Classic card has no fee in the first year, and none afterwards if you spend over 60,000 TL a "
            "year."),
        _qa("Şubeleriniz cumartesi açık mı?",
            "Seçili AVM şubelerimiz cumartesi 10:00–17:00 arası açıktır; şube listesine mobil uygulamadan "
            "ulaşabilirsiniz.",
            "Are your branches open on Saturdays?",
            "Selected shopping-mall branches open on Saturdays from 10:00 to 17:00; the list is in the mobile app.",
            "Şubeleriniz Saturday açık mı?"),
        _qa("Kartım çalınırsa ne yapmalıyım?",
            "Kartınızı mobil uygulamadan anında kapatabilir ya da 7/24 {callcenter} numaralı çağrı merkezimizi "
            "arayabilirsiniz.",
            "What should I do if my card is stolen?",
            "You can freeze the card instantly in the app or call our 24/7 line on {callcenter}."),
        _qa("Konut kredisi faiz oranlarınız nedir?",
            "Güncel oranlar vade ve tutara göre değişiyor; mobil uygulamadaki kredi hesaplayıcıdan size özel teklifi "
            "görebilirsiniz.",
            "What's the daily ATM withdrawal limit?",
            "The standard daily ATM limit is 10,000 TL; you can change it in the app under Card Limits.",
            "Mortgage rate'leriniz ne kadar?"),
    ),
    _x({"tr": ("Teşekkürler, peki mobil uygulamadan limit artırımı yapabilir miyim?",),
        "en": ("Thanks. Can I raise my card limit in the app as well?",)},
       {"tr": ("Evet, Kartlarım > Limit İşlemleri menüsünden talep oluşturabilirsiniz; sonuç anında ekranda görünür.",),
        "en": ("Yes, under Cards > Limits you can request an increase and see the result right away.",)}),
), pii_free=True)

_FREE_SHOP = Scenario("faq", "shop", (
    _alt(
        _qa("Bu ayakkabının 38 numarası ne zaman gelir?",
            "38 numara stoklarımıza önümüzdeki hafta girecek; ürün sayfasındaki 'Gelince haber ver' butonunu "
            "kullanabilirsiniz.",
            "When will size 38 of these shoes be back in stock?",
            "Size 38 is due next week; use the 'Notify me' button on the product page."),
        _qa("Kargo ücreti ne kadar?",
            "250 TL ve üzeri siparişlerde kargo ücretsizdir; altındaki siparişlerde kargo ücreti 39,90 TL'dir.",
            "How much is shipping?",
            "Shipping is free on orders of 250 TL or more; below that it costs 39.90 TL.",
            "Shipping ücreti ne kadar?"),
        _qa("İade süresi kaç gün?",
            "Ürünü teslim aldıktan sonra 14 gün içinde ücretsiz iade edebilirsiniz.",
            "How long do I have to return an item?",
            "You can return any item free of charge within 14 days of delivery."),
        _qa("Bu mont su geçirmez mi?",
            "Evet, ürün 10.000 mm su geçirmezlik değerine sahip; beden tablosu ürün görsellerinin altında.",
            "Is this jacket waterproof?",
            "Yes, it has a 10,000 mm waterproof rating; the size chart is under the product photos.",
            "Bu mont waterproof mu? Size chart nerede?"),
        _qa("Kapıda ödeme seçeneğiniz var mı?",
            "Evet, 2.000 TL'ye kadar olan siparişlerde kapıda nakit veya kartla ödeme yapabilirsiniz.",
            "Do you ship abroad?",
            "At the moment we only deliver within Türkiye."),
    ),
    _x({"tr": ("Peki indirim kodları kargo ücretine de uygulanıyor mu?",),
        "en": ("And do discount codes apply to shipping?",)},
       {"tr": ("İndirim kodları yalnızca ürün tutarına uygulanır; kargo ücreti ayrıca hesaplanır.",),
        "en": ("Discount codes apply to the items only; shipping is calculated separately.",)}),
), pii_free=True)

_FREE_CLINIC = Scenario("faq", "clinic", (
    _alt(
        _qa("Pazar günü açık mısınız?",
            "Polikliniğimiz pazar günleri 09:00–14:00 arası açıktır; acil durumlarda lütfen {emergency}'yi arayın.",
            "Are you open on Sundays?",
            "We're open on Sundays from 09:00 to 14:00; in an emergency please call {emergency}.",
            "Weekend'de açık mısınız?"),
        _qa("Check-up paketlerinizin fiyatları nedir?",
            "Temel check-up paketimiz 4.500 TL'dir; kapsamlı paket ve ayrıntılar için {callcenter} numaralı hattımızı "
            "arayabilirsiniz.",
            "How much is a check-up?",
            "Our basic check-up is 4,500 TL; for the full package call us on {callcenter}.",
            "Check-up fiyatları ne kadar?"),
        _qa("Devlet hastanesi randevusu sizden alınabilir mi?",
            "Devlet hastanesi randevuları için MHRS'yi ya da {mhrs} numaralı hattı kullanabilirsiniz.",
            "Do you accept foreign health insurance?",
            "Yes, we work with most international insurers; please bring your policy documents to reception."),
        _qa("Anlaşmalı olduğunuz sigorta şirketleri hangileri?",
            "Anlaşmalı kurumlarımızın güncel listesi web sitemizin 'Sigortalar' sayfasındadır.",
            "Is there parking at the clinic?",
            "Yes, there is free parking for patients behind the main building."),
    ),
    _x({"tr": ("Teşekkürler, randevusuz gelebilir miyim?",), "en": ("Thanks. Can I walk in without an appointment?",)},
       {"tr": ("Randevusuz da gelebilirsiniz, ancak bekleme süresi uzayabilir; randevu almanızı öneririz.",),
        "en": ("Walk-ins are welcome, but waiting times can be long, so we recommend booking.",)}),
), pii_free=True)

# A PII-free conversation whose question is the general-talk sentence itself.
GENERAL_REPLIES: Templates = {
    "tr": ("Güncel bilgileri web sitemizde ve mobil uygulamamızda duyuruyoruz; ayrıntılar için {callcenter} numaralı "
           "hattımızı arayabilirsiniz.",
           "Bu konuda ilgili birimimizden bilgi alıp size buradan dönüş yapacağız."),
    "en": ("We publish up-to-date information on our website and app; for details you can call {callcenter}.",
           "I'll check with the relevant team and get back to you here."),
}

SCENARIOS: dict[str, tuple[Scenario, ...]] = {"bank": BANK, "shop": SHOP, "clinic": CLINIC}
PII_FREE: dict[str, Scenario] = {"bank": _FREE_BANK, "shop": _FREE_SHOP, "clinic": _FREE_CLINIC}

# An optional last exchange: the customer thanks, the agent signs off.
THANKS = _x(
    {"tr": ("Teşekkürler, iyi günler.", "Çok teşekkür ederim, yardımcı oldunuz.", "tamamdır sağolun"),
     "en": ("Thanks, that's all.", "Great, thank you!"),
     "mix": ("Süper, thanks!", "Ok teşekkürler, have a nice day.")},
    {"tr": ("Rica ederiz {hon}, iyi günler dileriz.", "Rica ederim, iyi günler!"),
     "en": ("You're welcome, {hon}. Have a great day!", "You're welcome. Take care!")},
)

# Invented firms; several contain words that are also names ("Yıldız", "Deniz") and must stay unlabelled.
FIRMS = (
    "Yıldız Lojistik Ltd. Şti.", "Akyapı İnşaat A.Ş.", "Marmara Tekstil San. ve Tic. Ltd. Şti.", "Ege Gıda A.Ş.",
    "Anatolya Yazılım Ltd. Şti.", "Karadeniz Nakliyat", "Toros Tarım Ürünleri A.Ş.", "Mavi Deniz Turizm Ltd. Şti.",
    "Kuzey Mobilya", "Bereket Un Sanayi A.Ş.",
)
