"""Identity resolution: source records from every touchpoint into one customer each."""
