"""Rubrics (评分细则): criteria and grade bands in immutable-once-used versions; grading a total."""
