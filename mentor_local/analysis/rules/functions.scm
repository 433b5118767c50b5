; Every def (sync or async); decorators are reached through the parent node.
(function_definition) @function
