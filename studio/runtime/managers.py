"""The dialogue managers of builds, loaded once per process, and the sessions they serve.

Loading a manager takes seconds (the encoder, the models); a turn takes milliseconds. So
managers are cached by build (least recently used out first), all on one shared encoder,
and so are the sessions' in-memory states. A state is only a cache of the stored turns:
when it is missing or behind (another process served the session, or this one restarted)
it is rebuilt from them with ``DialogueManager.resume``.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from modeling.artifact import artifact_precision, read_artifact_config
from modeling.encoder import TextEncoder
from modeling.runtime import DialogueManager, Executor, Session
from studio.builds.artifacts import artifact_problem
from studio.builds.models import Build

__all__ = ["ArtifactUnavailable", "Executor", "forget_session", "manager_for", "session_state"]


class ArtifactUnavailable(Exception):
    """The build's artifact is missing or does not match its checksum."""


_lock = threading.Lock()
_encoders: dict[tuple[str, str], TextEncoder] = {}
_managers: OrderedDict[int, DialogueManager] = OrderedDict()
_sessions: OrderedDict[uuid.UUID, tuple[DialogueManager, Session]] = OrderedDict()


def _encoder(precision: str) -> TextEncoder:
    """One encoder per device and precision, shared by every build trained with it."""
    key = (settings.COLLOQUY_RUNTIME_DEVICE, precision)
    if key not in _encoders:
        _encoders[key] = TextEncoder(device=key[0], precision=precision)
    return _encoders[key]


def manager_for(build: Build) -> DialogueManager:
    """The build's manager, loaded on first use in this process."""
    with _lock:
        manager = _managers.get(build.pk)
        if manager is None:
            problem = artifact_problem(build)  # checked once per process: hashing every file per turn costs
            if problem:
                raise ArtifactUnavailable(f"build {build.number} cannot be served: {problem}")
            precision = artifact_precision(read_artifact_config(Path(build.artifact_path)))
            manager = DialogueManager.load(
                build.artifact_path, device=settings.COLLOQUY_RUNTIME_DEVICE, encoder=_encoder(precision)
            )
            _managers[build.pk] = manager
            while len(_managers) > settings.COLLOQUY_RUNTIME_MANAGERS:
                _, gone = _managers.popitem(last=False)
                for key in [k for k, (m, _) in _sessions.items() if m is gone]:
                    del _sessions[key]
        _managers.move_to_end(build.pk)
        return manager


def session_state(
    session_id: uuid.UUID,
    manager: DialogueManager,
    turns: int,
    *,
    load: Callable[[], Sequence[Mapping[str, Any]]],
    today: datetime.date | None = None,
) -> Session:
    """The in-memory state of a session that has ``turns`` stored turns; ``load`` reads them, only
    when the state has to be rebuilt."""
    with _lock:
        cached = _sessions.get(session_id)
        if cached is not None and cached[0] is manager and len(cached[1].history) == turns:
            _sessions.move_to_end(session_id)
            return cached[1]
    # Outside the lock: it encodes every earlier turn. A new session has none to read.
    state = manager.resume(load() if turns else [], today=today)
    with _lock:
        _sessions[session_id] = (manager, state)
        while len(_sessions) > settings.COLLOQUY_RUNTIME_SESSIONS:
            _sessions.popitem(last=False)
    return state


def forget_session(session_id: uuid.UUID) -> None:
    with _lock:
        _sessions.pop(session_id, None)


def clear() -> None:
    """Forget every manager and session state, as a restarted process would have (tests)."""
    with _lock:
        _managers.clear()
        _sessions.clear()
