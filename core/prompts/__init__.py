"""Prompt craft: shot fields, per-family prompt builders, saved templates."""
