"""scoresim: an agent-based model of reputation-scoring ("social credit") systems."""

from .catalog import load_scenario, scenario_names
from .model import ReputationModel
from .overrides import ScenarioError
from .scenario import Scenario

__all__ = ["ReputationModel", "Scenario", "ScenarioError", "load_scenario", "scenario_names"]
__version__ = "0.1.0"
