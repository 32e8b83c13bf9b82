"""Proof modules: one per card (``answers/<card_id>.py``), runnable as ``python -m answers.<card_id>``.

Importing this package imports nothing heavy; each proof module imports torch itself.
"""

# The building blocks, not the proof of one card: the one list that deck checks, cache keys and the site read.
# A package (``formulas``) is listed by its folder name.
SHARED = ("__init__", "__main__", "evidence", "protocol", "reference", "report", "formulas", "figures", "exercises")
