"""Proof modules: one per card (``answers/<card_id>.py``), runnable as ``python -m answers.<card_id>``.

Importing this package imports nothing heavy; each proof module imports torch itself.
"""
