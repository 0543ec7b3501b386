"""The suite cannot reach a real provider: the attempt fails loudly instead of being retried."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import RealNetworkCall


def test_official_sdk_cannot_reach_openai() -> None:
    client = openai.OpenAI(api_key="sk-test", max_retries=3)
    with pytest.raises(RealNetworkCall, match=r"api\.openai\.com"):
        client.chat.completions.create(
            model="gpt-4.1-mini", messages=[{"role": "user", "content": "hi"}]
        )
