; Loops and comprehensions: where N+1 queries, row-wise pandas and sequential awaits live.
[
  (for_statement)
  (while_statement)
  (list_comprehension)
  (set_comprehension)
  (dictionary_comprehension)
  (generator_expression)
] @loop
