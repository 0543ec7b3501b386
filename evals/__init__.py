"""Prompt regression evals (cases, checks, runs and the deploy gate) live here."""
