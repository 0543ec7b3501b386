# One image for every role (api, worker, dispatcher); docker-compose.yml picks the
# command. Pinned dependencies come from pyproject.toml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY autofill ./autofill
COPY api ./api
COPY worker ./worker
COPY cli ./cli
COPY evals ./evals
COPY prompts ./prompts
RUN pip install . && useradd --create-home --uid 10001 autofill

USER autofill
EXPOSE 8000
CMD ["autofill", "serve", "--host", "0.0.0.0", "--port", "8000"]
