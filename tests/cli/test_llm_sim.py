from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import openai

from tests.cli.conftest import Run

AUTOFILL = str(Path(sys.executable).with_name("autofill"))


def test_serves_the_openai_protocol_with_faults() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [AUTOFILL, "llm-sim", "--port", str(port), "--latency-ms", "5", "--error-rate", "500=1.0"],
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert process.stderr is not None and "[sim]" in process.stderr.readline()
        client = openai.OpenAI(api_key="sk", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.chat.completions.create(
                    model="sim-1", messages=[{"role": "user", "content": "x"}]
                )
                raise AssertionError("every request should fail with 500")
            except openai.InternalServerError:
                break
            except openai.APIConnectionError:
                assert time.monotonic() < deadline, "simulator did not come up"
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_bad_options_are_a_message(run: Run) -> None:
    for args, fragment in [
        (("llm-sim", "--error-rate", "429"), "FAULT=RATE"),
        (("llm-sim", "--error-rate", "429=x"), "not a number"),
        (("llm-sim", "--error-rate", "418=0.1"), "--error-rate"),
    ]:
        result = run(*args)
        assert result.returncode == 2 and fragment in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
