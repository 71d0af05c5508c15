"""What a card says: the neutral card model, builders from core values, and the message catalogs."""
