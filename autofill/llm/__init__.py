"""Talking to language models: the catalogue, tokenizers, providers, typed answers, retries and
rate limits, and a wire-level simulator for places with no provider (tests, demo, benchmarks)."""
