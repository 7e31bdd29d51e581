"""Import a service of the Schema-Guided Dialogue dataset (SGD) as a skill, with gold data.

:func:`import_sgd` reads the dataset's own files (``schema.json`` and ``dialogues_*.json``)
and returns the skill, the remaining dialogues in the annotated-dialogue format
(``source: "sgd"``, each one passing :class:`simulator.checker.Checker`) and a report of
everything that could not be converted, and why. It knows no service by name: every
decision below is driven by the schema and the dialogues.

The non-sample dialogues are evaluation data, so **nothing of their language enters the
skill**: no value a user says, no wording of a value, no system utterance. What the skill
takes from them is what a developer would know anyway: the provider's database (their
``service_results``) and which responses the system can give (template signatures,
realised from the schema). The checker does not hold ``sgd`` dialogues to the skill's
language (see :mod:`simulator.checker`), so the gold keeps the real words.

How SGD maps onto the skill spec:

* **Slots** become slot types named after the slot (respelled into a valid name when
  needed; the report keeps the mapping). A non-categorical slot whose known values are
  canonical ``HH:MM`` times (all but at most 1%, which then cannot be used) is the
  built-in TIME (it reads "half past 6 in the evening"); every other slot is a
  catalogue. Dates stay catalogues: SGD resolves relative dates differently from the
  DATE type ("next Monday" said on Friday 1 March is 4 March). Catalogue values are the
  schema's possible values, the ``service_results`` of all given dialogues (the
  provider's database) and the values said in the samples; values differing only in case
  are one value. Synonyms are the other surface forms the samples use ("Chi-town" for
  Chicago, "today" for 2019-03-01) and number words for small integers ("two"). An
  evaluation dialogue's span keeps its words and SGD's value even when the catalogue has
  neither (the report counts both: "user wordings that are no catalogue form of their
  value", "user values not in the catalogue").
* **Intents** become APIs: required slots are required arguments, optional slots are
  optional arguments with the schema's default (``dontcare`` included), result slots are
  return fields, ``is_transactional`` is kept. An API after whose calls the system says
  how many results it found (INFORM_COUNT) also returns ``count``, a built-in NUMBER.
* **System turns** become one response template per distinct turn signature: the turn's
  acts with the slots whose values are bound to an entity and found in the text, plus the
  categorical values the text says in words of its own ("they do not serve alcohol"
  makes ``inform_serves_alcohol_false``). SGD gives one utterance per turn, which cannot
  be split per act, so a multi-act turn is one template, named after all its acts, whose
  act is the most telling one (NOTIFY_FAILURE, NOTIFY_SUCCESS, CONFIRM, OFFER_INTENT,
  REQUEST, OFFER, INFORM_COUNT, INFORM, REQ_MORE, GOODBYE in that order): REQUEST ->
  request_args (with ``requested``), CONFIRM -> confirm_api for a transactional intent
  else confirm_args, OFFER -> offer, INFORM and INFORM_COUNT -> inform, NOTIFY_* ->
  notify_* (but a failed transaction that offers another try asks for confirmation:
  confirm_api), OFFER_INTENT -> offer_api (the offered API), REQ_MORE -> request_more,
  GOODBYE -> goodbye. A template's variants are the samples' delexicalised system
  utterances of its signature. A signature that only evaluation dialogues show is still a
  template (the inventory of responses is part of the skill, as a developer would author
  it), with one variant generated from the schema alone: a generic sentence per act, each
  argument a placeholder described by its slot's description (REQUEST: "Could you tell
  me the city in which the restaurant is located?", OFFER: "How about this one? The name
  of the restaurant is {restaurant_name}.", CONFIRM: "Please confirm: ...", INFORM_COUNT:
  "I found {count} results.", OFFER_INTENT and NOTIFY_*: the intent's description, "Would
  you like to reserve a table at a restaurant?"); the report counts these templates. The
  gold response's text is the real utterance. Values a REQUEST suggests ("such as
  Mexican or Italian") and values that cannot be bound (a default date the confirmation
  repeats) stay literal text.
* **User turns** of the samples, delexicalised, become utterance sets grouped by what the
  turn does: INFORM_INTENT -> invoke (the intent's API), INFORM -> inform, or change when
  it replaces a value the user gave before (per active API), REQUEST_ALTS -> request_more,
  THANK_YOU / GOODBYE -> goodbye, NEGATE / NEGATE_INTENT -> deny, AFFIRM / AFFIRM_INTENT
  / SELECT -> affirm. Turns that ask a question (user REQUEST, which no user act models)
  or say a value that is not located in the text are not used.
* **Spans** come from the SGD slot spans; categorical values, which SGD does not locate,
  are searched in the text through the catalogue's forms. A span whose words name
  another catalogue value than SGD's ("Asian Fusion", mapped by SGD to "Sushi") is
  annotated with the value it names.
* **System actions**: an API call where the frame has a ``service_call`` (its results: the
  ``service_results`` row matching the values the system then mentions, else the first),
  then the response template, then the wait. When the system offers another row of an
  earlier call without calling again (the user asked for alternatives), the call is
  repeated with the same arguments and the offered row as its result, so that every
  entity has one value. Every argument is bound to the entity its value came from: a
  user span when the user said the value, else a result field (the latest call's
  results first for offers and informs). An optional argument whose value is not
  located is left out; a required one is bound to an earlier result with that value if
  there is one, and otherwise makes the dialogue unconvertible.

The first ``samples`` dialogues (sorted by ``dialogue_id``, or in a seeded random order)
become the skill's sample dialogues; a candidate that cannot be one is replaced by the
next. Dialogues involving other services, or that cannot be converted, are skipped with
their reason; nothing is dropped silently.

The package's modules: :mod:`~simulator.sgd.schema` reads the input,
:mod:`~simulator.sgd.catalogue` builds the catalogue of values,
:mod:`~simulator.sgd.turns` holds the records of a converted dialogue,
:mod:`~simulator.sgd.convert` converts one dialogue, :mod:`~simulator.sgd.naming` names
things, :mod:`~simulator.sgd.assemble` builds the skill and the gold dialogues,
:mod:`~simulator.sgd.report` holds the result and the report, and
:mod:`~simulator.sgd.importer` is the entry point, :func:`import_sgd`.
"""

from .importer import import_sgd
from .naming import snake, valid_name
from .report import SgdImport, SgdImportError, SgdReport
from .schema import load_dialogues, load_schema

__all__ = [
    "SgdImport",
    "SgdImportError",
    "SgdReport",
    "import_sgd",
    "load_dialogues",
    "load_schema",
    "snake",
    "valid_name",
]
