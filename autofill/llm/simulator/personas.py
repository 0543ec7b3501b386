"""Which real server the simulator plays for a request: the model name decides.

- a model of the catalogue (``gpt-6-luna`` on the OpenAI path, ``claude-opus-5-5`` on the
  Anthropic path, a dated snapshot of either): that model, with every rule its catalogue entry
  states (rules.py);
- a model its provider has retired, or a name in the provider's own naming that nobody serves:
  a 404, as the provider answers (``model_not_found``; Anthropic ``not_found_error``);
- the simulator's own models (``sim-1``, ``mimic-*``, ``obey-*``, ``lenient-*``): a plain
  non-reasoning chat model (the catalogue's ``sim:*``);
- any other name on the OpenAI path: a self-hosted OpenAI-compatible server (``compat:*``),
  which, like Ollama and llama-cpp-python, reads the output limit from ``max_tokens`` only.

The catalogue is the one description of each model, shared with the adapters on purpose: a rule
that is wrong there is wrong everywhere, and the contract tests (tests/contract) check the
adapters' requests against the providers' own documents instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from autofill.llm.catalogue import ModelInfo, ModelRefused, catalogue

_SIMULATED = re.compile(r"^(sim|mimic|obey|lenient)")
_OPENAI_NAMES = re.compile(r"^(gpt-|o\d|chatgpt-|codex-)")


@dataclass(frozen=True)
class Persona:
    kind: Literal["openai", "anthropic", "sim", "compat", "missing"]
    name: str
    info: ModelInfo | None  # None only for "missing"
    why_missing: str = ""


def persona(protocol: str, model: str) -> Persona:
    if protocol == "openai" and _SIMULATED.match(model):
        return Persona("sim", model, catalogue().get("sim:" + model))
    reference = f"{protocol}:{model}"
    try:
        info = catalogue().get(reference)
    except ModelRefused as exc:
        if protocol == "anthropic" or _OPENAI_NAMES.match(model):
            return Persona("missing", model, None, exc.message)
        return Persona("compat", model, catalogue().get("compat:" + model))
    kind: Literal["openai", "anthropic"] = "anthropic" if protocol == "anthropic" else "openai"
    return Persona(kind, model, info)
