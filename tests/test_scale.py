"""Scale: a million citizens with every rule set on runs on a 2-core, 24 GiB machine.
(Speed is measured by the benchmarks, not asserted here.)"""

from __future__ import annotations

import numpy as np

from simulation import ReputationModel


def test_million_citizen_patchwork_runs():
    model = ReputationModel("patchwork", rng=1, **{"population.n_citizens": 1_000_000})
    df = model.run(3)
    assert model.citizens.n == 1_000_000
    assert list(df.index) == [0, 1, 2, 3]
    assert np.isfinite(df.to_numpy(dtype=float)).all()
    assert df["cm_all_tp"].iloc[-1] + df["cm_all_fp"].iloc[-1] + df["cm_all_fn"].iloc[-1] \
        + df["cm_all_tn"].iloc[-1] == 1_000_000
