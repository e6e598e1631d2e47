"""The public jury (大众评委): one-time codes, each good for one complete sheet, no login."""
