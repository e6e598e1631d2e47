"""What runs across domains: scheduled jobs of every domain, round outcomes and cross-domain facts."""
