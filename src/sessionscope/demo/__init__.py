"""Synthetic demo data: realistic, deterministic product-analytics sessions."""

from .generate import generate_sessions

__all__ = ["generate_sessions"]
