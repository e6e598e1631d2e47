"""Assignments of evaluators to subjects, and conflicts of interest (declared per assignment
or standing with an organisation)."""
