"""Which language-ID library to use for pages and short property values.

    .venv/bin/python -m bench.langid_accuracy

Runs lingua-language-detector (all 75 languages, high accuracy mode), the configuration
autofill.language uses (scripts one language owns, else lingua over all 75 languages in low
accuracy mode; "unsure" below 0.7 confidence or 30 letters), py3langid and langdetect (seeded)
over bench/langid_samples.py and prints accuracy, time per call and load time. For the chosen
configuration it also counts the unsure answers apart from the wrong ones: naming no language is
what the request then does, and is better than naming a wrong one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.langid_samples import SAMPLES

Detect = Callable[[str], str | None]


def lingua_detector() -> Detect:
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def detect(text: str) -> str | None:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language else None

    return detect


def chosen_detector() -> Detect:
    from autofill.language import page_language

    def detect(text: str) -> str | None:
        found = page_language(text)
        return found.code if found.confident else "unsure"

    return detect


def py3langid_detector() -> Detect:
    import py3langid

    return lambda text: str(py3langid.classify(text)[0])


def langdetect_detector() -> Detect:
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0

    def run(text: str) -> str:
        code: str = detect(text)
        return "zh" if code.startswith("zh") else code

    return run


def main() -> None:
    total = sum(len(texts) for texts in SAMPLES.values())
    factories: list[tuple[str, Callable[[], Detect]]] = [
        ("lingua-all", lingua_detector),
        ("chosen", chosen_detector),
        ("py3langid", py3langid_detector),
        ("langdetect", langdetect_detector),
    ]
    for name, factory in factories:
        started = time.perf_counter()
        detect = factory()
        detect("warm up")
        loaded = time.perf_counter() - started
        wrong = []
        started = time.perf_counter()
        for language, texts in SAMPLES.items():
            for text in texts:
                found = detect(text)
                if found != language:
                    wrong.append(f"{language}→{found}: {text}")
        per_call = (time.perf_counter() - started) / total * 1000
        unsure = sum(1 for miss in wrong if miss.split(":")[0].endswith("→unsure"))
        print(
            f"{name:11} {total - len(wrong)}/{total} = {(total - len(wrong)) / total:.0%}  "
            + (f"(wrong {len(wrong) - unsure}, unsure {unsure})  " if unsure else "")
            + f"{per_call:.2f} ms/call  load {loaded:.1f} s"
        )
        for miss in wrong:
            print("    ", miss)


if __name__ == "__main__":
    main()
