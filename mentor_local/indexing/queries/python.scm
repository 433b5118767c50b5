; Definitions that become chunks. Decorators are attached in Python code
; (a decorated_definition wraps the node captured here).
(function_definition
  name: (identifier) @name) @definition.function

(class_definition
  name: (identifier) @name) @definition.class
