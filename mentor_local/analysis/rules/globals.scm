(global_statement) @global
