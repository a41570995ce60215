"""Imports: files from every touchpoint into the store, every row accepted or quarantined."""
