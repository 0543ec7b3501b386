from __future__ import annotations

import pytest

from autofill.language import detect_language


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
