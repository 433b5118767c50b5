"""Air-gap switches, applied before any heavy library is imported.

``apply()`` is idempotent and is called before chromadb, onnxruntime,
sentence-transformers, transformers or llama_cpp are imported.  It forces the
offline and no-telemetry flags, and removes variables that would let the
user's environment (or a ``.env`` file in their repo, which chromadb's
settings would otherwise read) point those libraries somewhere else.
"""

from __future__ import annotations

import os

FORCED = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "POSTHOG_DISABLED": "1",
    # onnxruntime >= 1.29 ships telemetry on Linux and macOS too (1DS uploads to events.data.microsoft.com,
    # found by tests/security/test_offline.py); this is its full opt-out, read once at initialisation.
    "ORT_DISABLE_TELEMETRY": "1",
    # Load-time noise (progress bars, advisory warnings) must not reach the user's screen.
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
# Prefixes of variables that reconfigure our dependencies behind our back.
SCRUBBED_PREFIXES = ("CHROMA_", "HF_ENDPOINT", "HUGGINGFACE_", "SENTENCE_TRANSFORMERS_HOME")


def apply() -> None:
    for key in list(os.environ):
        if key.startswith(SCRUBBED_PREFIXES):
            del os.environ[key]
    os.environ.update(FORCED)
