"""Rule sets, one module each, behind one interface (:mod:`.base`) and this registry.

To add a rule set: write a module with a subclass of
:class:`~simulation.rules.base.RuleSetBase` whose docstring states the rule in plain
words, add its configuration to :mod:`simulation.scenario` with a literal ``kind``,
and register it here.
"""

from .base import Consequences, RuleSetBase
from .blacklist import Blacklist
from .commercial import Commercial
from .none import NoRules
from .points import Points
from .rating import Rating

REGISTRY: dict[str, type[RuleSetBase]] = {
    cls.kind: cls for cls in (NoRules, Blacklist, Points, Commercial, Rating)
}

__all__ = ["REGISTRY", "Consequences", "RuleSetBase"]
