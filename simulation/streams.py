"""Independent random streams, one per mechanism, all from one seed.

Each mechanism draws from its own ``numpy.random.Generator`` spawned from the run's
``SeedSequence`` by a fixed position. Two scenarios run with the same seed therefore
share their population, their network and every draw that their rules do not change
(common random numbers). From the first release on, streams are only appended to
``STREAMS``, never removed or reordered, so that a seed keeps its draws.
"""

from __future__ import annotations

import numpy as np

STREAMS = (
    "population", "network", "purchases", "firms", "transactions", "infractions",
    "prosocial", "speech", "detection", "ties",
    "rule_blacklist", "rule_points", "rule_commercial", "rule_rating", "errors",
    "services",
)


def make_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per name in ``STREAMS``, spawned from ``SeedSequence(seed)``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}
