"""Loading prompt files, with errors that name the file and the field."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

import autofill
from autofill.config import get_settings
from autofill.kinds import PromptTask
from autofill.prompts.schema import PromptFile


class PromptLoadError(Exception):
    """A prompt file is missing or invalid; the message names the file and the field."""


@dataclass(frozen=True)
class LoadedPrompt:
    path: Path
    prompt: PromptFile
    file_hash: str  # sha256 of the file's bytes: any edit changes every cell's prompt_version


def prompts_dir() -> Path:
    """``AUTOFILL_PROMPTS_DIR``, else prompts/ beside the package (repo checkout or wheel)."""
    return get_settings().prompts_dir or _shipped_prompts()


@lru_cache(maxsize=1)
def _shipped_prompts() -> Path:
    # Resolved once: resolving a path walks it with a system call per part, per fill.
    return Path(autofill.__file__).resolve().parent.parent / "prompts"


def load_file(path: Path) -> LoadedPrompt:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PromptLoadError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PromptLoadError(f"{path}: not valid YAML: {exc}") from None
    try:
        prompt = PromptFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "(file)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise PromptLoadError(f"{path}: field {field}: {message}") from None
    if prompt.task != path.stem:
        raise PromptLoadError(
            f"{path}: field task: is {prompt.task!r} but the file is named {path.stem!r}"
        )
    return LoadedPrompt(path, prompt, hashlib.sha256(raw).hexdigest())


@lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int) -> LoadedPrompt:
    return load_file(Path(path))


def load_prompt(task: PromptTask, directory: Path | None = None) -> LoadedPrompt:
    path = (directory or prompts_dir()) / f"{task}.yaml"
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise PromptLoadError(f"{path}: no prompt file for task {task!r}") from None
    return _load_cached(str(path), mtime)  # re-read when the file changes
