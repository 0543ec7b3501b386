"""The images the compose test runs, built on this machine: it reaches no container registry,
only Debian's mirror and the package index (issue 22).

- The base: a Debian root filesystem from debootstrap with Debian's python3 and its venv
  module, imported as an image once and reused (its tag names what it holds).
- The application: the repository's own Dockerfile, given that base as BASE_IMAGE. pip inside
  `docker build` cannot reach the index (this machine reaches it through a certificate
  authority of its own, which a build cannot mount), so the wheels are built first, in a
  container of the base image, and served to the build from loopback."""

from __future__ import annotations

import functools
import http.server
import os
import secrets
import shutil
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "autofill-test-base:bookworm-python3"
DEBIAN_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv")
DEBIAN_MIRROR = os.environ.get("AUTOFILL_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def run(*command: str | Path, timeout: float = 600, **kwargs: object) -> str:
    """Runs a command; on failure the error carries its output, so a test says why."""
    result = subprocess.run(
        [str(word) for word in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,  # type: ignore[call-overload]
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} exited {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return str(result.stdout)


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def ensure_base_image(workdir: Path) -> str:
    """The Debian base image, made with debootstrap and `docker import` unless already here."""
    if image_exists(BASE_IMAGE):
        return BASE_IMAGE
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    rootfs = workdir / "rootfs"
    try:
        run(
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            DEBIAN_SUITE,
            rootfs,
            DEBIAN_MIRROR,
            timeout=900,
        )
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            run("docker", "import", "-c", 'CMD ["/bin/bash"]', "-", BASE_IMAGE, stdin=tar.stdout)
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait(60)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return BASE_IMAGE


def build_wheelhouse(directory: Path, base: str) -> Path:
    """Wheels of the project, every dependency and its build backend, resolved by the base
    image's own Python (its version decides which conditional dependencies apply: Debian's
    3.11.2 needs async-timeout where 3.11.7 does not). Run with host networking and this
    machine's certificate authorities, which the index's address needs here."""
    build_requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"][
        "requires"
    ]
    directory.mkdir(parents=True, exist_ok=True)
    certificates = os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt"
    trust = (
        ["--volume", f"{certificates}:/etc/host-ca.crt:ro", "--env", "PIP_CERT=/etc/host-ca.crt"]
        if Path(certificates).is_file()
        else []
    )
    requirements = " ".join(f"'{requirement}'" for requirement in build_requires)
    run(
        "docker",
        "run",
        "--rm",
        "--network",
        "host",
        "--volume",
        f"{ROOT}:/src:ro",
        "--volume",
        f"{directory}:/wheels",
        *trust,
        base,
        "sh",
        "-c",
        "python3 -m venv /tmp/venv && /tmp/venv/bin/pip wheel --quiet --no-cache-dir"
        f" --wheel-dir /wheels /src {requirements}",
        timeout=900,
    )
    return directory


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on loopback (pip's --find-links reads its listing)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def build_application_image(base: str, workdir: Path) -> str:
    """The repository's Dockerfile on ``base``, installing from a local wheelhouse. Host
    networking for the build only, so its pip reaches the wheelhouse on loopback."""
    tag = f"autofill-compose-test:{secrets.token_hex(4)}"
    with serving(build_wheelhouse(workdir / "wheels", base)) as wheelhouse:
        run(
            "docker",
            "build",
            "--force-rm",  # no containers left behind by a failed step either
            "--network",
            "host",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--build-arg",
            f"PIP_INSTALL_OPTIONS=--no-index --find-links {wheelhouse}",
            "--tag",
            tag,
            ROOT,
            timeout=1200,
        )
    return tag
