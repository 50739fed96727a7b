"""Routes for this API family (being written)."""
