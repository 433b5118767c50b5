"""Static analysis of a user's repo: ``review`` (findings with a card each) and ``profile`` (what the repo is).

``review`` runs ruff (as a binary, with an explicit rule selection) and tree-sitter
query rules (``rules/*.scm`` plus small Python checks) and maps both onto the
closed topic list in ``mentor_local.topics``.  Nothing heavy is imported here.
"""

from __future__ import annotations
