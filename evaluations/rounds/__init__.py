"""Review rounds and their subjects: what is scored, on which rubric version, by how many."""
