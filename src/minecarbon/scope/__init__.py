"""Scope (guide ch. 2): monitoring extent and the assessment units (requirements S1–S3)."""
