"""A toy analysis for the scan tests (see analysis.py)."""
