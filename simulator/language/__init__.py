"""Language variation: how simulated users say things, with every span kept exact.

Three pieces, all driven by an injected ``random.Random``:

* :class:`ValueSampler` picks slot values and the words for them: a catalogue value
  or one of its synonyms, or a built-in DATE/TIME/NUMBER said in one of many ways
  (every built-in surface form normalises back to its canonical value).
* :class:`UtteranceBank` turns a :class:`~simulator.protocols.UserTurnPlan` (acts,
  API, values to mention) into segments: plain text and one :class:`Mention` per
  planned value, exactly. Its templates are the skill's utterance sets and the user
  turns of its sample dialogues, delexicalised (see :class:`UtteranceBank`); when no
  single template says exactly the planned values it composes several, and when the
  skill has none for an act it falls back on built-in phrases.
* Paraphrasers vary the wording of the plain text and never touch a mention:
  :class:`RuleParaphraser` (fillers, politeness, hedges, contractions, casing,
  reordering of "from X to Y"), :class:`ChainParaphraser` and :class:`NoParaphraser`.

The package's modules: :mod:`.values` (``ValueSampler`` and the built-in surface
forms), :mod:`.templates` (templates and their parsing), :mod:`.grammar` (casing,
articles, agreement), :mod:`.learn` (templates and reactions learnt from sample
dialogues), :mod:`.bank` (``UtteranceBank``: rendering a plan) and :mod:`.paraphrase`
(the paraphrasers).
"""

from .bank import UtteranceBank
from .paraphrase import ChainParaphraser, NoParaphraser, RuleParaphraser
from .templates import Hole, Template
from .values import DEFAULT_TODAY, ValueSampler

__all__ = [
    "DEFAULT_TODAY",
    "ChainParaphraser",
    "Hole",
    "NoParaphraser",
    "RuleParaphraser",
    "Template",
    "UtteranceBank",
    "ValueSampler",
]
