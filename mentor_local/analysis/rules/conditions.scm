; if statements: check-then-act on shared state.
(if_statement condition: (_) @condition) @if
