"""Degenerate parametrizations and inverse stability (Berner, Elbrächter & Grohs)."""
