"""Reporting: the long results table and its row builder (``rows``), the markdown and CSV
tables (``tables``), MALA against the one-step samplers (``comparison``) and the figures
(``plots``, one module per figure family)."""
