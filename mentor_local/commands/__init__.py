"""Subcommands of ``mentor``: each module has ``register(subparsers)``."""
