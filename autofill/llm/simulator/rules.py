"""The rules the simulator enforces, each beside the official source it comes from.

A request that breaks a rule gets the error the provider sends (status, type, code, param).
The per-model facts (reasoning efforts, temperature, output limit, structured-output mechanism,
forced tools, prefill) come from the model's catalogue entry, whose own sources are listed there.
"""

from __future__ import annotations

from typing import Any

from autofill.llm.simulator.errors import SimError, invalid
from autofill.llm.simulator.personas import Persona
from autofill.llm.tokenizer import count_tokens

_PER_MESSAGE = 4


def prompt_tokens(texts: list[str]) -> int:
    return sum(count_tokens(text) + _PER_MESSAGE for text in texts)


def openai_effort(body: dict[str, Any], persona: Persona) -> str | None:
    """The effort a request runs at: the one sent, else the model's default (None: no
    reasoning at all)."""
    info = persona.info
    if info is None or info.reasoning in ("none", "on_request"):
        return None
    effort = body.get("reasoning_effort") or info.default_effort
    return None if effort == "none" else effort


def openai_limit(body: dict[str, Any], persona: Persona) -> int | None:
    """The output limit the server applies. A compat server reads ``max_tokens`` only and
    generates on when given ``max_completion_tokens`` (docs.ollama.com/api/openai-compatibility,
    "Supported request fields"; llama-cpp-python's server likewise)."""
    if persona.kind == "compat":
        return _int(body.get("max_tokens"))
    return _int(body.get("max_completion_tokens")) or _int(body.get("max_tokens"))


def check_openai(body: dict[str, Any], persona: Persona, prompt: int) -> SimError | None:
    """The error the OpenAI API answers this request with, if any (``prompt``: its input
    tokens)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        # OpenAPI CreateChatCompletionRequest.messages: minItems 1.
        return invalid("[] is too short - 'messages'", param="messages", code="empty_array")
    info = persona.info
    if persona.kind != "openai" or info is None:
        return None  # the simulator's own models and compat servers are lenient

    # OpenAPI `max_tokens`: "deprecated in favor of max_completion_tokens, and is not compatible
    # with o-series models"; the GPT-5 and GPT-6 model pages: reasoning models likewise.
    if "max_tokens" in body and info.reasoning != "none":
        return invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    effort = body.get("reasoning_effort")
    if effort is not None:
        # OpenAPI ReasoningEffort: "Not all reasoning models support every value"; the model
        # pages list each model's values (gpt-6.1-sol: no none, no minimal).
        if not info.efforts:
            return invalid(
                "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                param="reasoning_effort",
                code="unsupported_parameter",
            )
        if effort not in info.efforts:
            allowed = ", ".join(f"'{e}'" for e in info.efforts)
            return invalid(
                f"Unsupported value: 'reasoning_effort' does not support '{effort}' with this "
                f"model. Supported values are: {allowed}.",
                param="reasoning_effort",
                code="unsupported_value",
            )
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        # Reasoning models take only the default temperature
        # (platform.openai.com/docs/guides/reasoning); GPT-5.1 and later take one only with
        # reasoning effort none (developers.openai.com/api/docs/guides/latest-model).
        reasoning_on = openai_effort(body, persona) is not None
        if info.temperature == "never" or (info.temperature == "reasoning_off" and reasoning_on):
            return invalid(
                f"Unsupported value: 'temperature' does not support {temperature} with this "
                "model. Only the default (1) value is supported.",
                param="temperature",
                code="unsupported_value",
            )
    limit = openai_limit(body, persona)
    if limit is not None and limit > info.max_output_tokens:
        # The model page's "max output tokens".
        return invalid(
            f"max_tokens is too large: {limit}. This model supports at most "
            f"{info.max_output_tokens} completion tokens, whereas you provided {limit}.",
            param="max_tokens",
            code="invalid_value",
        )
    if prompt + (limit or 0) > info.context_window:
        return invalid(
            f"This model's maximum context length is {info.context_window} tokens. However, you "
            f"requested {prompt + (limit or 0)} tokens ({prompt} in the messages, {limit or 0} "
            "in the completion). Please reduce the length of the messages or completion.",
            param="messages",
            code="context_length_exceeded",
        )
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        if spec.get("strict"):
            problem = strict_problem(spec.get("schema") or {})
            if problem:
                return invalid(
                    f"Invalid schema for response_format '{spec.get('name')}': {problem}",
                    param="response_format",
                    code="invalid_json_schema",
                )
    return None


def strict_problem(schema: dict[str, Any]) -> str | None:
    """What strict mode refuses in ``schema``, if anything
    (developers.openai.com/api/docs/guides/structured-outputs, "Supported schemas": every object
    sets additionalProperties false and requires all its properties; at most 1,000 enum values,
    a string enum of more than 250 values at most 15,000 characters, 120,000 characters of
    names and enum values in all, 10 levels of nesting, 5,000 properties)."""
    enums: list[list[Any]] = []
    names: list[str] = []
    counts = {"properties": 0, "depth": 0}

    def visit(node: Any, depth: int) -> str | None:
        if not isinstance(node, dict):
            return None
        counts["depth"] = max(counts["depth"], depth)
        if isinstance(node.get("enum"), list):
            enums.append(node["enum"])
        props = node.get("properties")
        if node.get("type") == "object" or isinstance(props, dict):
            props = props if isinstance(props, dict) else {}
            if node.get("additionalProperties") is not False:
                return (
                    "In context=(), 'additionalProperties' is required to be supplied and to "
                    "be false."
                )
            missing = [name for name in props if name not in (node.get("required") or [])]
            if missing:
                return (
                    "In context=(), 'required' is required to be supplied and to be an array "
                    f"including every key in properties. Missing '{missing[0]}'."
                )
            counts["properties"] += len(props)
            names.extend(props)
            for child in props.values():
                problem = visit(child, depth + 1)
                if problem:
                    return problem
        for key in ("items", "anyOf"):
            children = node.get(key)
            for child in children if isinstance(children, list) else [children]:
                problem = visit(child, depth)
                if problem:
                    return problem
        for child in (node.get("$defs") or {}).values():
            problem = visit(child, depth)
            if problem:
                return problem
        return None

    problem = visit(schema, 1)
    if problem:
        return problem
    values = sum(len(e) for e in enums)
    if values > 1000:
        return f"{values} enum values in all, over the limit of 1000."
    for enum in enums:
        chars = sum(len(str(v)) for v in enum)
        if len(enum) > 250 and chars > 15_000:
            return (
                f"an enum of {len(enum)} values has {chars} characters, over the limit of "
                "15000 for enums of more than 250 values."
            )
    total = sum(len(n) for n in names) + sum(len(str(v)) for e in enums for v in e)
    if total > 120_000:
        return f"{total} characters of names and enum values, over the limit of 120000."
    if counts["depth"] > 10:
        return f"{counts['depth']} levels of nesting, over the limit of 10."
    if counts["properties"] > 5000:
        return f"{counts['properties']} object properties, over the limit of 5000."
    return None


def anthropic_effort(body: dict[str, Any], persona: Persona) -> str | None:
    """The effort a request thinks at (None: it does not think). Models whose thinking is
    on by default or always on think at their default effort unless told otherwise (model
    pages: "Thinking: Adaptive", "Default effort")."""
    info = persona.info
    if info is None:
        return None
    config = body.get("output_config") or {}
    thinking = (body.get("thinking") or {}).get("type")
    if thinking == "disabled" and info.reasoning != "always":
        return None
    if info.reasoning in ("none", "on_request") and thinking not in ("enabled", "adaptive"):
        return None
    return config.get("effort") or info.default_effort or "medium"


def check_anthropic(body: dict[str, Any], persona: Persona, prompt: int) -> SimError | None:
    """The error the Anthropic API answers this request with, if any (``prompt``: its input
    tokens)."""
    info = persona.info
    if info is None:
        return None
    limit = body.get("max_tokens")
    # MessageCreateParams.max_tokens: Required (anthropic 2.10.0 message_create_params.py).
    if not isinstance(limit, int) or limit < 0:
        return invalid("max_tokens: Field required", param="max_tokens")
    if limit > info.max_output_tokens:
        # "Different models have different maximum values for this parameter" (same docstring).
        return invalid(
            f"max_tokens: {limit} > {info.max_output_tokens}, which is the maximum allowed "
            f"number of output tokens for {persona.name}"
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return invalid("messages: at least one message is required")
    problem = _blank_block(body)
    if problem:
        return invalid(problem)
    if messages[-1].get("role") == "assistant" and not info.prefill:
        # Prefill returns a 400 from Claude 4.6 on (migration guide; the SDK's `messages`
        # docstring: "On models that don't support prefill ... returns a 400 error").
        return invalid(
            "This model does not support assistant message prefill. The conversation must end "
            "with a user message."
        )
    choice = body.get("tool_choice") or {}
    if choice.get("type") in ("tool", "any") and not info.forced_tool_use:
        # Claude Opus 5.5 and Fable 5.1: "forced tool use returns an error"
        # (platform.claude.com/docs/en/models/opus-5-5/overview, breaking changes).
        return invalid(
            "tool_choice: forcing tool use is not supported with this model; use "
            "tool_choice auto, or output_config.format for structured output"
        )
    config = body.get("output_config") or {}
    effort = config.get("effort")
    if effort is not None:
        # Model pages, "Default effort: Not supported" (Claude Haiku 4.5); the effort values
        # each model takes (anthropic 2.10.0 types/effort_capability.py).
        if info.effort_param != "output_config.effort":
            return invalid("output_config.effort: this model does not support the effort parameter")
        if effort not in info.efforts:
            return invalid(f"output_config.effort: '{effort}' is not supported by this model")
    if config.get("format") is not None and info.structured_output != "output_format":
        return invalid("output_config.format: structured outputs are not supported on this model")
    if prompt > info.context_window:
        return invalid(f"prompt is too long: {prompt} tokens > {info.context_window} maximum")
    return None


def _blank_block(body: dict[str, Any]) -> str | None:
    """The API refuses empty and whitespace-only text blocks: "messages: text content blocks
    must be non-empty" / "must contain non-whitespace text" (the API's answers as quoted in
    anthropics/claude-code#59812 and #23369)."""
    system = body.get("system")
    blocks: list[tuple[str, Any]] = []
    if isinstance(system, list):
        blocks += [("system", b) for b in system]
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            blocks.append(("messages", {"type": "text", "text": content}))
        elif isinstance(content, list):
            blocks += [("messages", b) for b in content]
    for where, block in blocks:
        if isinstance(block, dict) and block.get("type") == "text":
            text = str(block.get("text", ""))
            if not text:
                return f"{where}: text content blocks must be non-empty"
            if not text.strip():
                return f"{where}: text content blocks must contain non-whitespace text"
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
