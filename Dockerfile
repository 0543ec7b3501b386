# One image for every role (api, worker, dispatcher, migrate, llm-sim); docker-compose.yml picks
# the command. Pinned dependencies come from pyproject.toml.
#
# BASE_IMAGE: any image with Python 3.11+ and its venv module. Users keep the default; the
# compose test (tests/deploy) builds on a Debian image made locally, because machines without
# a registry cannot pull this one.
# PIP_INSTALL_OPTIONS: extra pip options for the install, e.g. a local wheelhouse
# ("--no-index --find-links http://127.0.0.1:8765/") where the package index is out of reach
# from inside a build, as in that test.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
ARG PIP_INSTALL_OPTIONS=""

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PATH=/opt/autofill/venv/bin:$PATH \
    AUTOFILL_DATA_DIR=/var/lib/autofill \
    TIKTOKEN_CACHE_DIR=/opt/autofill/tiktoken
WORKDIR /app

COPY pyproject.toml README.md ./
COPY autofill ./autofill
COPY api ./api
COPY worker ./worker
COPY cli ./cli
COPY evals ./evals
COPY prompts ./prompts
# A virtual environment, not the system's site-packages: a distribution's Python refuses pip
# there (PEP 668). The tokenizer encodings are unpacked now, as root, so no container writes
# outside its data directory; tiktoken writes its cache files through mkstemp (mode 0600), so
# they are made readable to the user the processes run as. The data directory (the
# session-signing key when AUTOFILL_SECRET_KEY is unset, the SQLite file in embedded mode)
# belongs to the user the processes run as: /app stays root's and read-only to them (issue 22).
RUN python3 -m venv /opt/autofill/venv \
    && pip install ${PIP_INSTALL_OPTIONS} . \
    && python3 -c "from autofill.llm.tokenizer import ENCODINGS, encoding; [encoding(n) for n in ENCODINGS]" \
    && chmod -R a+rX /opt/autofill/tiktoken \
    && useradd --create-home --uid 10001 autofill \
    && mkdir -p /var/lib/autofill \
    && chown autofill:autofill /var/lib/autofill

USER autofill
VOLUME /var/lib/autofill
EXPOSE 8000
CMD ["autofill", "serve", "--host", "0.0.0.0", "--port", "8000"]
