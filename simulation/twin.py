"""A run's no-rules twin: the same society, seed and settings without its rule sets.

The twin of a model is :meth:`Scenario.without_rules` of the scenario as the run
started (``model.initial_config``: every override and ``run.steps`` included), built
with the model's seed. The two share the population, the network, the rest state and
every draw the rules do not change (common random numbers), so any difference between
them, step by step, is the rules' doing.

A scenario in which no rule set acts and none is switched on later (``baseline``) is
its own twin: :func:`no_rules_twin` then gives None and nothing needs running.
"""

from __future__ import annotations

from .model import ReputationModel
from .scenario import Scenario


def has_rules(config: Scenario) -> bool:
    """Whether a rule set acts in ``config`` or an intervention changes one."""
    return bool(config.active_kinds) or any(iv.path.startswith("rules.") for iv in config.interventions)


def no_rules_twin(model: ReputationModel) -> ReputationModel | None:
    """A new model, at step 0, of ``model``'s run without rules (same seed, same values,
    same steps); None when the run has no rules to remove."""
    if not has_rules(model.initial_config):
        return None
    return ReputationModel(model.initial_config.without_rules(), rng=model.seed)
