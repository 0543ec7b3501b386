from __future__ import annotations

import pytest

from autofill.language import UNKNOWN, PageLanguage, detect_language, main_script, page_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Le client a été facturé deux fois en mars.", "fr"),
        ("Seit dem Update können sich drei Kollegen nicht anmelden.", "de"),
        ("El cliente quiere un descuento para el año próximo.", "es"),
        ("検索が遅くて、毎朝の作業に時間がかかる。", "ja"),
        ("배송 추적 알림이 늦게 온다는 불만이 많다.", "ko"),
        ("更新后三位同事无法通过单点登录进入系统。", "zh"),
        ("لم تصل الأجهزة الثلاثة المطلوبة منذ أسبوعين.", "ar"),
        ("The export times out above fifty thousand rows.", "en"),
    ],
)
def test_detects_the_prompt_languages(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_nothing_to_tell() -> None:
    assert detect_language("") is None and detect_language("   \n") is None


@pytest.mark.parametrize(
    ("text", "language", "script"),
    [
        ("ลูกค้าแจ้งว่าระบบส่งออกข้อมูลล้มเหลวทุกครั้ง", "th", "Thai"),
        ("ग्राहक का भुगतान दो बार विफल हुआ। पैसे कट गए लेकिन ऑर्डर की पुष्टि नहीं हुई।", "hi", "Devanagari"),
        ("Khách hàng báo rằng việc xuất dữ liệu bị lỗi mỗi lần.", "vi", "Latin"),
        ("Клиент сообщает, что экспорт данных каждый раз падает.", "ru", "Cyrillic"),
        ("Cliente relata que a exportação de dados falha sempre.", "pt", "Latin"),
        ("Müşteri, veri dışa aktarımının her seferinde başarısız oluyor.", "tr", "Latin"),
        ("Klient zgłasza, że eksport danych za każdym razem kończy się błędem.", "pl", "Latin"),
        ("Клиентът съобщава, че експортът на данни се проваля всеки път.", "bg", "Cyrillic"),
        ("ລູກຄ້າແຈ້ງວ່າການສົ່ງອອກຂໍ້ມູນລົ້ມເຫຼວທຸກຄັ້ງ", "lo", "Lao"),
        ("អតិថិជនរាយការណ៍ថាការនាំចេញទិន្នន័យបរាជ័យរាល់ពេល", "km", "Khmer"),
        ("ဖောက်သည်က ဒေတာထုတ်ယူမှု အမြဲပျက်သည်ဟု ပြောသည်", "my", "Myanmar"),
        ("Ο πελάτης αναφέρει ότι η εξαγωγή δεδομένων αποτυγχάνει κάθε φορά.", "el", "Greek"),
    ],
)
def test_names_languages_beyond_the_examples(text: str, language: str, script: str) -> None:
    found = page_language(text)
    assert (found.code, found.script, found.confident) == (language, script, True)


def test_a_mixed_page_is_in_the_language_of_its_running_text() -> None:
    # English with Japanese names and terms: English, the language the sentences are in.
    note = (
        "Meeting notes: Tanaka-san (田中) presented the 改善 (kaizen) plan for the 大阪 office. "
        "We agreed to ship by Friday and review the 品質管理 results next week."
    )
    assert page_language(note).code == "en"
    # Japanese with English product names: Japanese.
    japanese = "来週の会議では、KubernetesのクラスタとCI/CDについて話します。"
    assert page_language(japanese).code == "ja"
    # Kanji with a fifth of kana is Japanese script, not Chinese.
    assert main_script("東京都渋谷区の会議室で打ち合わせ") == "Kana"
    assert main_script("更新后三位同事无法登录") == "Han"


def test_unsure_when_there_is_too_little_to_tell() -> None:
    assert page_language("OK").confident is False
    assert page_language("12345 !!!") == UNKNOWN
    assert detect_language("OK") is None


def test_a_page_language_is_kept_and_read_back_as_it_was() -> None:
    for language in (
        PageLanguage("fr", "Latin", True),
        PageLanguage("de", "Latin", False),
        PageLanguage(None, "Latin", False),
        PageLanguage(None, None, False),
    ):
        assert PageLanguage.from_stored(language.stored()) == language
    assert PageLanguage.from_stored("written by something else") is None
    assert PageLanguage.from_stored("fr|Latin|yes") is None
