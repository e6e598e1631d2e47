"""Progress, closing a round, its results and the budget-constrained recommendation; the
finalised outcomes other domains read."""
