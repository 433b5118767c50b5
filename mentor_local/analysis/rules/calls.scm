; Every call; the Python checks dispatch on the callee's dotted name.
(call function: (_) arguments: (_)) @call
