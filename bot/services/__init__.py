"""Application services: each runs inside a unit of work and writes outbox rows with its state change."""
