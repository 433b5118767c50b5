; Writes that can grow or race on shared state.
[(assignment) (augmented_assignment) (delete_statement)] @mut
