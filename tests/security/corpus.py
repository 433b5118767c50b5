"""Planted secrets and hostile repo texts for the security tests; they live in scripts/harness/hostile.py,
shared with the reliability report."""

from __future__ import annotations

from scripts.harness.hostile import ALNUM, B64, HIDDEN_CHARS, HOSTILE_TEXTS, Planted, plant_repo, planted_secrets

__all__ = ["ALNUM", "B64", "HIDDEN_CHARS", "HOSTILE_TEXTS", "Planted", "plant_repo", "planted_secrets"]
