"""Colloquy's dialogue simulator: a skill spec in, annotated dialogues out. No Django here."""
