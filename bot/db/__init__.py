"""Persistence: tables, the database handle and its unit of work."""
