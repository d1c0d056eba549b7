"""Regression: short seeded runs reproduce the stored tables, so an optimisation that
changes results is caught. Regenerate with tests/golden/regenerate.py only on purpose."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

GOLDEN = Path(__file__).parent / "golden"
spec = importlib.util.spec_from_file_location("golden_cases", GOLDEN / "regenerate.py")
cases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cases)


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_run_matches_golden_table(name):
    expected = pd.read_csv(GOLDEN / f"{name}.csv", index_col="step")
    actual = cases.run(name)
    assert list(actual.columns) == list(expected.columns)
    np.testing.assert_allclose(actual.to_numpy(dtype=float), expected.to_numpy(dtype=float),
                               rtol=1e-9, atol=1e-9, err_msg=name)
