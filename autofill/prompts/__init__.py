"""The prompt library: one YAML file per task in prompts/, rendered into chat messages with
few-shot examples as earlier turns, and fitted to the model's window."""
