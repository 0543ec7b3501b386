"""One small module per wire protocol, behind the ``Provider`` protocol in base.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autofill.faces import lazy_face

if TYPE_CHECKING:
    from autofill.llm.providers.anthropic_messages import AnthropicProvider
    from autofill.llm.providers.base import Provider
    from autofill.llm.providers.clients import anthropic_client, openai_client
    from autofill.llm.providers.headers import resets, wait_for
    from autofill.llm.providers.openai_chat import OpenAIChatProvider

__all__ = [
    "AnthropicProvider",
    "OpenAIChatProvider",
    "Provider",
    "anthropic_client",
    "openai_client",
    "resets",
    "wait_for",
]

__getattr__ = lazy_face(__name__, __file__)
