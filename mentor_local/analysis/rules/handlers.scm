; except clauses, and `with suppress(...)` items.
(except_clause) @handler
(with_item value: (call function: [(identifier) (attribute)] @fn) @call) @item
