"""Business rules. Every function takes a keyword-only ``session``, flushes, never commits."""
