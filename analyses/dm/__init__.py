"""Dark-matter physics of phi: annihilation cross sections, freeze-out (relic density),
CMB energy injection and direct detection. The analyses built on it (relic density, CMB,
direct detection) are modules of :mod:`analyses` registered by their data files."""
