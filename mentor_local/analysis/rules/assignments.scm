; Assignments whose value is a plain string or a boolean: secrets and debug flags.
(assignment
  left: [(identifier) (attribute) (subscript)] @target
  right: [(string) (concatenated_string) (true)] @value) @assign
(keyword_argument
  name: (identifier) @target
  value: [(string) (concatenated_string) (true)] @value) @assign
(default_parameter
  name: (identifier) @target
  value: [(string) (concatenated_string)] @value) @assign
(typed_default_parameter
  name: (identifier) @target
  value: [(string) (concatenated_string)] @value) @assign
(pair
  key: (string) @target
  value: [(string) (concatenated_string)] @value) @assign
