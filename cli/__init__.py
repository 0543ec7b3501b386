"""The `autofill` command line: one module per command group."""
