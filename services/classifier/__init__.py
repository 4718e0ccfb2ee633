"""Routing: each source record gets a category, a department and a jurisdiction."""
