"""Coding exercises: write the mechanism yourself, graded by the bank's proofs (``quiz code``).

One module per exercise, ``answers/exercises/<id with - as _>.py``. Each holds, as plain module-level
literals that ``quiz code list`` reads with ``ast`` (without importing torch): ``ID``, ``CARD`` (the card it
practises), ``DIFFICULTY``, ``TITLE``, ``FUNCTION`` (the name the learner defines) and ``IMPORTS`` (the
starter's import lines). Then the reference solution, a function named ``FUNCTION`` whose docstring is the
specification; ``cases()``, the checks, each with its expected value from an independent reference (torch's
own implementation or a float64 loop, never the reference solution); ``MISCONCEPTIONS``, named wrong
implementations with what they get wrong and the card pitfall that says so; and ``FORBIDDEN``, the functions a
solution may not call because they are the thing being practised.

Importing this package imports nothing heavy; each exercise module imports torch itself.
"""
