"""The control: nothing is scored, nobody is sanctioned or rewarded.

Every hook of :class:`~simulation.rules.base.RuleSetBase` does nothing, so a run under
this rule set shows the population's own dynamics: trust, fraud and inequality as
they evolve with no scoring at all.
"""

from __future__ import annotations

from .base import RuleSetBase


class NoRules(RuleSetBase):
    """No scoring (the control)."""

    kind = "none"
