"""Shared fixtures. Every random test uses a fixed seed."""

from __future__ import annotations

import os

# Keep the suite within the 2-core CI budget and make numba's on-disk cache predictable.
os.environ.setdefault("NUMBA_NUM_THREADS", "2")
