"""Review rules: tree-sitter queries (``*.scm``, package data) and the Python checks that use them."""
