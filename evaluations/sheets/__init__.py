"""Score sheets: an evaluator's scores per criterion, saved as drafts and submitted once."""
