"""rng.uniform promises the open interval (0, 1): the word whose top 53 bits are all ones used to
round to exactly 1.0 ((2^53 - 1) + 1/2 is halfway between two doubles, rounded to the even 2^53)."""

from __future__ import annotations

import numpy as np

from evtgen import rng


def test_the_extreme_words_stay_inside_the_open_interval():
    top = rng.open_unit(np.uint64(2**64 - 1))
    assert top < 1.0 and top == 1.0 - 2.0**-53
    assert rng.open_unit(np.uint64(0)) == 2.0**-54 > 0.0


def test_every_other_word_gives_the_formula_unchanged():
    # the mapping changes only the top word: compare with the formula evaluated by numpy
    words = np.random.default_rng(3).integers(0, 2**64 - 1, size=20000, dtype=np.uint64, endpoint=True)
    words[:3] = [2**64 - 2**11 - 1, 2**63, 2**11]  # the largest word below the top 53-bit value, 1/2, 2^-53
    expected = ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    got = np.array([rng.open_unit(w) for w in words])
    assert np.array_equal(got, expected)
    assert np.all((got > 0.0) & (got < 1.0))
