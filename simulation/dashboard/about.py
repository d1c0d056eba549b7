"""The 'About this model' text, in the sections of a NetLogo Info tab, and the
'things to try', each of which the page turns into a button that loads its setting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ThingToTry:
    """A suggestion with the setting that shows it: a scenario with changed values for
    the Run page, or a ready-made comparison for the Compare page."""

    title: str
    text: str
    scenario: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    comparison: str | None = None


WHAT_IS_IT = """
**scoresim** simulates reputation-scoring ("social credit") systems: a town of
citizens who trade with firms, lend to and deal with their contacts, sometimes break
rules, volunteer and speak their minds, while government departments watch, record
(with mistakes) and score them.

The scoring is done by **rule sets** you can switch on alone or together, as the real
patchwork does: court and sector **blacklists** with joint punishment, Rongcheng-style
municipal **points** and grades, a Sesame-like **commercial** opt-in score, and an
Honest-Shanghai-like opt-in government **rating**; or none at all (the control).

The model takes no side. The benefits supporters claim (less fraud, firms that keep
their word, more trust between strangers) and the harms critics fear (wrongful
listings, exclusion, social sorting, chilled speech, inequality) can each emerge from
its mechanisms, or fail to. It is a tool for thinking about mechanisms, not a forecast
for any country or city.
"""

HOW_IT_WORKS = """
Each **step** is a week (7 days). In every step:

1. **Citizens act.** They buy from firms (choosing by trust and any public rating),
   play a trust game with contacts (trust, then repay or cheat), may commit minor or
   serious infractions, default on court judgements, do prosocial acts and post
   critical speech. How likely each is depends on their honesty and on how watched
   and how punished they feel (**deterrence** and **chilling**).
2. **Departments observe and record**, each with a coverage (the chance an act is
   seen) and errors: records against the wrong person (false positives), compliance
   not recorded, acts missed.
3. **Rule sets score** the records they are given: listings, points and grades,
   scores. Departments that do not share records cannot join the punishment.
4. **Consequences follow:** sanctions (travel, luxury, schooling, loans), rewards
   for good scores (which reach rural citizens less often), and, where lists are
   published, contacts who cut ties with the listed.
5. **Appeals and expiry:** listings end when their term runs out or an appeal
   succeeds; appeal offices have finite capacity, and poorer, less educated citizens
   appeal less often.
6. **Citizens adapt:** income and wealth, trust in others and in firms, how watched
   they feel, and their **approval** of the system, which follows their own
   experience of rewards, sanctions and mistakes. Firms adapt their quality.

The full description (ODD protocol, with every equation) is `docs/model.md`; every
parameter with its source is in `docs/parameters.md`.
"""

HOW_TO_USE_IT = """
- **Run**: pick a scenario (its classroom description appears under it), then press
  **Play**. **Step** advances one week, **Pause** stops, **Reset** starts again from
  week 0 with the same seed. **Speed** sets weeks per second. Change a key parameter
  (each shows its allowed range; hover for its meaning) and the run restarts from
  week 0 with the new value; a value out of range is refused with a message. The
  **seed** fixes every random draw: the same scenario, values and seed always give
  the same run.
- **Network view**: a sample of citizens and their ties, coloured by score (or grade,
  or urban/rural); listed citizens are black squares. Click a citizen to follow them.
- **Compare**: two or three scenarios run on the **same seed and population**
  (common random numbers), side by side and as differences from the first. The
  ready-made buttons set up the classic workshop questions.
- **Follow a citizen**: one citizen's story: score or grade over time, periods listed
  or sanctioned, records (true and wrongful), listings, appeals and ties cut.
- **Export** (on the Run page): the run's data as CSV, its scenario and seed as
  YAML (re-run it exactly with `python -m simulation run FILE.yaml --seed S`), and
  the current figures as one PNG.
"""

THINGS_TO_NOTICE = """
- Under **blacklist**, watch *wrongful listings in force* and the *innocent share of
  the listed*: how many of the listed did nothing, and how long it takes to clear them.
- **Approval by group**: who likes the system? Compare urban and rural, top and
  bottom income third. Does approval follow who gets rewarded and who gets it wrong?
- **Deterrence**: compare infraction and default rates with the **baseline** on the
  same seed. Are people behaving better, or speaking less?
- **Social sorting**: with published lists or friends-weighted scores, do listed or
  low-scored citizens lose ties (*ties of sanctioned / others* below 1), and do scores
  cluster along ties (*score assortativity*)?
- **Firms**: does listing firms raise firm quality and cut substandard goods, and does
  trust in firms follow?
"""

THINGS_TO_TRY: tuple[ThingToTry, ...] = (
    ThingToTry(
        "Make the courts ten times more error-prone",
        "Blacklists with the courts' false-record rate raised from 0.002 to 0.02 per year. "
        "Watch wrongful listings and approval.",
        scenario="blacklist", overrides=(("regulators.courts.false_positive_rate", 0.02),)),
    ThingToTry(
        "Stop publishing the lists",
        "Blacklists without naming and shaming: do the listed keep their ties? Is deterrence weaker?",
        scenario="blacklist", overrides=(("regulators.courts.publishes_lists", False),)),
    ThingToTry(
        "Let speech cost points",
        "Rongcheng points with 20 points deducted per recorded critical post: watch the speech "
        "rate fall (chilling).",
        scenario="rongcheng", overrides=(("rules.points.speech_deduction", 20.0),)),
    ThingToTry(
        "Make rewards reach the countryside",
        "The commercial score with rewards usable by every rural citizen: does the urban/rural "
        "approval gap close?",
        scenario="sesame", overrides=(("services.benefit_reach_rural", 1.0),)),
    ThingToTry(
        "Count friends' scores and let people prune",
        "The commercial score with friends' scores weighted 0.3 and users cutting ties to "
        "low-scored contacts: watch score assortativity and isolation.",
        scenario="sesame", overrides=(("rules.commercial.weight_friends", 0.3),
                                      ("rules.commercial.tie_pruning", 0.05))),
    ThingToTry(
        "Compare: low vs high error rate",
        "The blacklist scenario against its ten-times-more-errors variant, on the same population.",
        comparison="error_rate"),
    ThingToTry(
        "Compare: blacklist vs points vs commercial",
        "Three rule sets on the same population and seed.",
        comparison="rule_sets"),
)

EXTENDING = """
- Write your own scenario: copy a file from `scenarios/`, change values (every one
  has a validated range, `python -m simulation validate FILE` checks it) and run it
  with `python -m simulation run FILE --seed 1`.
- Schedule a change during a run with `interventions` (e.g. start publishing lists
  at week 100) and watch the response.
- Sweep a parameter over many seeds with `mesa.batch_run` (see the README).
- Add a rule set: one module in `simulation/rules/` implementing the hooks of
  `RuleSetBase` (behave, score, consequences, expire), plus its schema section.
"""

RELATED_MODELS = """
- Epstein's *Civil Violence* model (Mesa example `epstein_civil_violence`):
  deterrence by perceived arrest risk and legitimacy.
- The Trust Game (Berg, Dickhaut and McCabe 1995), on which the transactions
  between contacts are built.
- Watts and Strogatz's small-world networks (1998), the default social network.
- NetLogo Models Library: *Segregation* (sorting from mild preferences) and
  *Virus on a Network* (spreading over ties).
"""

CREDITS = """
scoresim, MIT licence. Built on Mesa (agent-based modelling in Python) and Solara
(this dashboard). Model description in the ODD protocol (Grimm et al. 2020).

**Source documents** (cited by number throughout the scenarios and `docs/model.md`):

- **000**: Frett, B. (2018). *Social Credits in China: Responses from a Variety of
  Chinese Citizens About China's New Data Aggregation Initiative.* University of
  Chicago Law School, International Immersion Program Papers. Elite attitudes.
- **002**: Aldendorff, N. (2019). *Transforming Society for the Better? Why China's
  Social Credit Systems are Surprisingly Popular.* The blacklists, Rongcheng's points,
  Sesame Credit, Honest Shanghai, the survey of approval by group, the case of Liu Hu.
- **003**: *Can Technology Help China Rebuild Social Trust?* Fair Observer, 1 August
  2019. Trust, the Cultural Revolution, approval of the pilots.
- **004**: *China's Surveillance State Should Scare Everyone* (opinion piece).
  Surveillance, friends' scores, chilling of speech.

**Other references**: Berg, Dickhaut and McCabe (1995), *Trust, reciprocity, and social
history*, Games and Economic Behavior 10(1); Grimm et al. (2020), *The ODD protocol ...
second update*, JASSS 23(2); Watts and Strogatz (1998), *Collective dynamics of
'small-world' networks*, Nature 393.
"""

SECTIONS: tuple[tuple[str, str], ...] = (
    ("What is it?", WHAT_IS_IT),
    ("How it works", HOW_IT_WORKS),
    ("How to use it", HOW_TO_USE_IT),
    ("Things to notice", THINGS_TO_NOTICE),
    ("Things to try", ""),  # the buttons
    ("Extending the model", EXTENDING),
    ("Related models", RELATED_MODELS),
    ("Credits and references", CREDITS),
)
"""The Info-tab sections in NetLogo's order; 'Things to try' is drawn from THINGS_TO_TRY."""
