"""The demo's sample database: multilingual pages of the kinds teams keep in one table."""

from __future__ import annotations

from typing import Any

DATABASE: dict[str, Any] = {
    "name": "Customer conversations",
    "properties": [
        {"name": "Name", "type": "title"},
        {"name": "Status", "type": "select", "options": ["New", "In progress", "Done"]},
        {"name": "Kind", "type": "select", "options": ["Meeting", "Ticket", "Interview"]},
        {"name": "Summary", "type": "ai", "ai": {"task": "summary"}},
        {
            "name": "Pain points",
            "type": "ai",
            "ai": {
                "task": "key_info",
                "instruction": "The customer's pain points, as a short list",
            },
        },
        {
            "name": "Sentiment",
            "type": "ai",
            "ai": {
                "task": "classify",
                "output": {"type": "select", "options": ["Positive", "Neutral", "Negative"]},
            },
        },
        {
            "name": "Title (FR)",
            "type": "ai",
            "ai": {"task": "translate", "inputs": ["Name"], "target_language": "fr"},
        },
    ],
}

ROWS: list[dict[str, Any]] = [
    {
        "properties": {"Name": "Weekly sync with Northwind", "Status": "New", "Kind": "Meeting"},
        "content": "- Export to CSV times out above 50k rows\n- They love the new dashboard\n"
        "- Action: Kim to share the bulk-export beta by Friday",
    },
    {
        "properties": {"Name": "Facture en double", "Status": "In progress", "Kind": "Ticket"},
        "content": "Bonjour, nous avons été facturés deux fois en mars. Merci de rembourser "
        "le second prélèvement rapidement, c'est la deuxième fois cette année.",
    },
    {
        "properties": {
            "Name": "ユーザーインタビュー：佐藤さん",
            "Status": "Done",
            "Kind": "Interview",
        },
        "content": "検索が遅くて、毎朝の作業に時間がかかる。モバイル版はとても使いやすい。"
        "チームでの共有機能がもっと欲しい。",
    },
    {
        "properties": {"Name": "Login schlägt fehl", "Status": "New", "Kind": "Ticket"},
        "content": "Seit dem Update können sich drei Kollegen nicht mehr per SSO anmelden. "
        "Fehlermeldung: 'invalid audience'. Bitte dringend prüfen.",
    },
    {
        "properties": {"Name": "Entrevista con Lucía", "Status": "Done", "Kind": "Interview"},
        "content": "Usa la herramienta cada día para planificar su equipo. Le encantan las "
        "plantillas, pero echa de menos poder exportar a PDF.",
    },
    {
        "properties": {"Name": "고객 미팅: 한빛 물류", "Status": "In progress", "Kind": "Meeting"},
        "content": "배송 추적 알림이 늦게 온다는 불만이 많다. 가격은 만족. 다음 달 갱신 예정.",
    },
]
