"""Community funds (社区基金 / 友邻基金): receipts, restricted pools, allocations with approval
steps, returns, and their public accounts (双公开)."""
