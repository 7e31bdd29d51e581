"""Building the outputs from converted dialogues: the skill (``_skill``: slot types,
APIs, response templates with the samples' variants or one generated from the schema by
``_schema_variant``, utterance sets and sample dialogues) and the gold annotated
dialogues (``_gold``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from skillspec import (
    Action,
    ActionKind,
    Api,
    ApiArgument,
    BuiltinType,
    ResponseTemplate,
    ReturnField,
    SampleDialogue,
    Skill,
    SlotType,
    SlotValue,
    Span,
    SystemTurn,
    TemplateArgument,
    UserAct,
    UserTurn,
    UtteranceArgument,
    UtteranceSet,
    placeholders,
)
from skillspec.annotated import (
    WAIT,
    AAction,
    AArgument,
    AnnotatedActionKind,
    AnnotatedDialogue,
    AResult,
    ASpan,
    ASystemTurn,
    AUserTurn,
    Source,
)
from skillspec.context import result_field

from .catalogue import _Catalogue
from .convert import MAX_VARIANT
from .naming import _fit, _template_names, _unique, snake
from .report import SgdReport
from .schema import _Intent, _Service
from .turns import COUNT, _Bind, _Dialogue, _Part, _STurn, _TemplateKey, _UTurn

# A yes/no slot's description ("Boolean flag indicating if pets are allowed"), for the
# schema-generated variants: "whether pets are allowed: no".
FLAG = re.compile(r"(?:boolean )?(?:flag )?(?:indicating |denoting )?(?:if|whether) (.+?)(?: or not)?", re.IGNORECASE)
FLAG_VALUES = {"True": "yes", "False": "no"}


def _escape(text: str) -> str:
    """``text`` as literal text of a variant."""
    return text.replace("{", "{{").replace("}", "}}")


def _phrase(description: str, fallback: str) -> str:
    """A schema description as a phrase inside a sentence ("Name of the restaurant" ->
    "name of the restaurant"), escaped for a variant."""
    text = " ".join(description.split()).rstrip(".") or fallback
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return _escape(text)


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _schema_variant(key: _TemplateKey, service: _Service) -> str:
    """A variant for a template no sample shows, made from the schema alone: one generic
    sentence per act, each argument a placeholder, described by its slot's description
    ("How about this one? The name of the restaurant is {restaurant_name}."); acts
    without arguments say the intent's description ("Would you like to reserve a table at
    a restaurant?")."""
    slot_of = dict(key.arguments)
    intents = {i.name: i for i in service.intents.values()}

    def describe(slot: str) -> str:  # "the <description>", or "whether <clause>" for a yes/no flag
        if slot == COUNT:
            return "the number of results"
        info = service.slots[slot]
        flag = FLAG.fullmatch(" ".join(info.description.split()).rstrip("."))
        if flag is not None:
            return "whether " + _escape(flag.group(1))
        return "the " + _phrase(info.description, info.name.replace("_", " "))

    def item(slot: str, shown: str) -> str:
        what = describe(slot)
        if what.startswith("whether "):
            return f"{what}: {FLAG_VALUES.get(shown, shown)}"
        return f"{what} is {shown}"

    def intent_phrase(intent: _Intent | None) -> str:
        return _phrase(intent.description, "do that") if intent is not None else "do that"

    def details(part: _Part) -> list[str]:
        out = [item(slot_of[name], f"{{{name}}}") for name in part.arguments]
        out += [item(slot, _escape(value)) for slot, value in part.said]
        return out

    api = intents.get(key.api) if key.api is not None else None
    counts = [name for name, slot in key.arguments if slot == COUNT]
    sentences: list[str] = []
    for part in key.parts:
        said = details(part)
        if part.act == "REQUEST":
            wanted = [describe(slot) for slot in part.requested] or ["a few more details"]
            sentences.append(f"Could you tell me {_listing(wanted)}?")
        elif part.act == "OFFER_INTENT":
            offered = service.intents.get(part.intent) if part.intent is not None else None
            sentences.append(f"Would you like to {intent_phrase(offered)}?")
        elif part.act == "INFORM_COUNT":
            found = f"{{{counts[0]}}} results" if counts else "several results"
            sentences.append(f"I found {found}.")
        elif part.act == "NOTIFY_SUCCESS":
            sentences.append(f"All set: I was able to {intent_phrase(api)}.")
        elif part.act == "NOTIFY_FAILURE":
            sentences.append(f"Sorry, I was not able to {intent_phrase(api)}.")
        elif part.act == "REQ_MORE":
            sentences.append("Is there anything else I can help you with?")
        elif part.act == "GOODBYE":
            sentences.append("Have a good day. Goodbye!")
        elif part.act == "OFFER":
            sentences.append("How about this one?" + (f" {_sentence(_listing(said))}." if said else ""))
            said = []
        elif part.act == "CONFIRM":
            sentences.append("Please confirm" + (f": {_listing(said)}." if said else "."))
            said = []
        elif not said:  # INFORM without arguments
            sentences.append("Here is what you asked for.")
        if said:  # INFORM, or an act that also names values
            sentences.append(f"{_sentence(_listing(said))}.")
    text = " ".join(sentences)
    if len(text) > MAX_VARIANT or sorted(placeholders(text)) != sorted(name for name, _ in key.arguments):
        # Very long descriptions (or an argument no act says, which no turn makes): the
        # placeholders alone, so that the template stays valid.
        text = "Here you go: " + ", ".join(f"{{{name}}}" for name, _ in key.arguments) + "."
    return text


def _utterance_sets(samples: Sequence[_Dialogue], service: _Service, taken: set[str]) -> list[UtteranceSet]:
    grouped: dict[tuple[UserAct, str | None], list[str]] = {}
    for d in samples:
        for turn in d.turns:
            if not isinstance(turn, _UTurn) or turn.set_key is None or turn.variant is None:
                continue
            if turn.variant.strip() and len(turn.variant) <= MAX_VARIANT:
                variants = grouped.setdefault(turn.set_key, [])
                if turn.variant not in variants:
                    variants.append(turn.variant)
    by_spec = {s.name: s for s in service.slots.values()}
    order = [UserAct.INVOKE, UserAct.INFORM, UserAct.CHANGE, UserAct.AFFIRM, UserAct.DENY]
    order += [UserAct.REQUEST_MORE, UserAct.GOODBYE]
    api_order = [i.name for i in service.intents.values()]
    out: list[UtteranceSet] = []
    for (act, api), variants in sorted(
        grouped.items(), key=lambda kv: (order.index(kv[0][0]), api_order.index(kv[0][1]) if kv[0][1] else -1)
    ):
        used: list[str] = []
        for v in variants:
            for name in placeholders(v):
                if name not in used:
                    used.append(name)
        used.sort(key=lambda n: service.slot_order(by_spec[n].sgd))
        if act is UserAct.INVOKE and api is not None:
            base = snake(api)
        else:
            base = act.value + (f"_{snake(api)}" if api else "")
        out.append(
            UtteranceSet(
                name=_unique(_fit(base), taken),
                act=act,
                api=api,
                arguments=[UtteranceArgument(name=n, slot_type=n) for n in used],
                variants=variants,
            )
        )
    return out


def _sample(d: _Dialogue, service: _Service, names: dict[_TemplateKey, str]) -> SampleDialogue:
    turns: list[UserTurn | SystemTurn] = []
    for turn in d.turns:
        if isinstance(turn, _UTurn):
            turns.append(
                UserTurn(
                    text=turn.text,
                    spans=[
                        Span(
                            id=s.entity.id,
                            start=s.start,
                            end=s.end,
                            slot_type=service.slots[s.slot].name,
                            text=s.text,
                            value=None if s.text == s.entity.value else s.entity.value,
                        )
                        for s in turn.spans
                    ],
                )
            )
        else:
            actions = [
                Action(
                    kind=ActionKind.API,
                    name=c.intent.name,
                    id=c.id,
                    arguments={b.name: b.entity.id for b in c.binds},
                )
                for c in turn.calls
            ]
            actions.append(
                Action(
                    kind=ActionKind.RESPONSE, name=names[turn.key], arguments={b.name: b.entity.id for b in turn.binds}
                )
            )
            turns.append(SystemTurn(actions=actions))
    return SampleDialogue(name=d.id, turns=turns)


def _argument(b: _Bind) -> AArgument:
    return AArgument(name=b.name, entity=b.entity.id, turn=b.entity.turn, value=b.entity.value)


def _gold(
    d: _Dialogue, service: _Service, names: dict[_TemplateKey, str], skill: Skill, digest: str
) -> AnnotatedDialogue:
    turns: list[AUserTurn | ASystemTurn] = []
    for turn in d.turns:
        if isinstance(turn, _UTurn):
            turns.append(
                AUserTurn(
                    text=turn.text,
                    acts=turn.acts,
                    spans=[
                        ASpan(
                            start=s.start,
                            end=s.end,
                            slot_type=service.slots[s.slot].name,
                            value=s.entity.value,
                            entity=s.entity.id,
                        )
                        for s in turn.spans
                    ],
                )
            )
        else:
            actions = []
            for c in turn.calls:
                actions.append(
                    AAction(
                        kind=AnnotatedActionKind.API,
                        name=c.intent.name,
                        id=c.id,
                        arguments=[_argument(b) for b in c.binds],
                        results=[
                            AResult(
                                entity=e.id,
                                field=result_field(e.id),
                                slot_type=e.slot_type,
                                value=e.value,
                            )
                            for e in c.results
                        ],
                    )
                )
            actions.append(
                AAction(
                    kind=AnnotatedActionKind.RESPONSE,
                    name=names[turn.key],
                    arguments=[_argument(b) for b in turn.binds],
                    text=turn.text,
                )
            )
            actions.append(AAction(kind=AnnotatedActionKind.WAIT, name=WAIT))
            turns.append(ASystemTurn(text=turn.text, actions=actions))
    return AnnotatedDialogue(id=f"sgd-{d.id}", skill=skill.name, spec_hash=digest, source=Source.SGD, turns=turns)


def _skill(
    service: _Service,
    cat: _Catalogue,
    samples: Sequence[_Dialogue],
    everything: Sequence[_Dialogue],
    report: SgdReport,
) -> tuple[Skill, dict[_TemplateKey, str]]:
    taken = {s.name.lower() for s in service.slots.values()} | {i.name.lower() for i in service.intents.values()}
    taken.add(service.count_type.lower())
    slot_types = [
        SlotType(name=s.name, description=s.description, builtin=cat.builtin[s.sgd])
        if s.sgd in cat.builtin
        else SlotType(
            name=s.name,
            description=s.description,
            values=[SlotValue(value=v, synonyms=cat.synonyms[s.sgd][v]) for v in cat.values[s.sgd]],
        )
        for s in service.slots.values()
    ]
    counting = any(i.counts for i in service.intents.values())
    if counting:
        slot_types.append(
            SlotType(name=service.count_type, description="How many results an API found.", builtin=BuiltinType.NUMBER)
        )
    apis = []
    for i in service.intents.values():
        arguments = [ApiArgument(name=service.slots[s].name, slot_type=service.slots[s].name) for s in i.required]
        arguments += [
            ApiArgument(name=service.slots[s].name, slot_type=service.slots[s].name, required=False, default=v)
            for s, v in i.optional.items()
            if s not in i.required
        ]
        returns = [ReturnField(name=service.slots[s].name, slot_type=service.slots[s].name) for s in i.results]
        if i.counts:
            returns.append(ReturnField(name=service.count_type, slot_type=service.count_type))
        apis.append(
            Api(
                name=i.name,
                description=i.description,
                arguments=arguments,
                returns=returns,
                transactional=i.transactional,
            )
        )

    # Every signature is a template (the samples' first), but only the samples' utterances
    # are variants: the others get a variant generated from the schema, so that no
    # evaluation text enters the skill.
    keys = [turn.key for d in [*samples, *everything] for turn in d.turns if isinstance(turn, _STurn)]
    names = _template_names(keys, taken)
    variants: dict[_TemplateKey, list[str]] = {}
    for d in samples:
        for turn in d.turns:
            if isinstance(turn, _STurn):
                texts = variants.setdefault(turn.key, [])
                if turn.variant not in texts:
                    texts.append(turn.variant)
    report.templates_without_sample_text = sum(1 for key in names if key not in variants)
    templates = []
    for key, name in names.items():
        texts = variants.get(key) or [_schema_variant(key, service)]
        templates.append(
            ResponseTemplate(
                name=name,
                act=key.act,
                api=key.api,
                requested=list(key.requested),
                arguments=[
                    TemplateArgument(name=n, slot_type=service.count_type if s == COUNT else service.slots[s].name)
                    for n, s in key.arguments
                ],
                variants=texts,
            )
        )
    sets = _utterance_sets(samples, service, set())
    skill = Skill(
        name=service.name,
        description=(service.description + " " if service.description else "")
        + "(Imported from the Schema-Guided Dialogue dataset.)",
        slot_types=slot_types,
        apis=apis,
        response_templates=templates,
        utterance_sets=sets,
        sample_dialogues=[_sample(d, service, names) for d in samples],
    )
    return skill, names
