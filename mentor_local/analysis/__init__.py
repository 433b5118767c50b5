"""Static analysis of a user's repo: ``review`` (findings with a card each) and ``profile`` (what the repo is).

``review`` runs ruff (the pinned binary, isolated, with an explicit rule selection) and our own rules, and maps
both onto the closed topic list in ``mentor_local.topics``. Our rules are Python functions over the tree-sitter
tree, one module per topic family in ``rules/`` (``rules/http.py``, ``rules/secrets.py``, ...); a few small
``rules/*.scm`` queries only collect the nodes they walk (calls, assignments, loops, handlers, ...), all run in
one pass per file. ``ruff_rules.py`` and ``rules/precision.py`` judge ruff's diagnostics in the context ruff
does not see. Nothing heavy is imported here.
"""

from __future__ import annotations
