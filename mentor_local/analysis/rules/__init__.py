"""Review rules: Python checks over the tree-sitter tree, one module per topic family.

``awaits``, ``blocking``, ``data``, ``debug``, ``exceptions``, ``http``, ``injection``, ``logging``,
``secrets``, ``shared_state``, ``tasks``, ``validation``: each check takes a ``FileContext`` and yields
``RawFinding``s (``review.checks()`` lists them in the order they run). ``common`` holds the helpers several
of them share; ``precision`` judges ruff's diagnostics in context. The ``*.scm`` files (package data) are the
tree-sitter queries that collect the nodes the checks walk.
"""
