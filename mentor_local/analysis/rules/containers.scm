; Mutable containers bound at module level or in a class body: candidate shared / growing state.
(module
  (expression_statement
    (assignment
      left: (identifier) @name
      right: [(dictionary) (list) (set) (call)] @value) @assign))
(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name
        right: [(dictionary) (list) (set) (call)] @value) @assign)))
