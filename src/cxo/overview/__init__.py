"""The home page's live picture of the store."""
