"""How much the normalize path remembers per distinct advisory: one number for every such cache.

A report repeats an advisory in every package it affects, and its reference pages across advisories;
a cache per advisory turns that repetition into one computation. 16,384 advisories is more than a large
image or cluster report names, at about 1.1 KB for ASFF's parts of one (the largest entry, measured).
"""

from __future__ import annotations

ADVISORIES_REMEMBERED = 16_384
