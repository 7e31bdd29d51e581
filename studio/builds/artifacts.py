"""The files of a build: its folder and shards, the artifact's manifest and checksum, and whether
an artifact can be served (:func:`artifact_problem`).

Everything lives under ``$COLLOQUY_ARTIFACTS_DIR/builds/<build id>/``: ``work/`` while the build
runs (the shards, ``artifact.tmp/``), ``artifact/`` once it is packaged (see docs/builds.md).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from django.conf import settings as django_settings

from .models import Build


def build_dir(build_id: int) -> Path:
    return Path(django_settings.COLLOQUY_ARTIFACTS_DIR) / "builds" / str(build_id)


def shard_path(build_id: int, shard: int) -> Path:
    """A shard's simulated dialogues (JSON Lines, the annotated-dialogue format); kept after the build."""
    return build_dir(build_id) / "work" / f"shard-{shard:03d}.jsonl"


def artifact_problem(build: Build) -> str | None:
    """Why the build's artifact cannot be served, or None: it must be complete and match its checksum."""
    if not build.artifact_path or not build.artifact_checksum:
        return "it has no artifact"
    path = Path(build.artifact_path)
    if not (path / "MANIFEST.json").is_file():
        return f"its artifact at {path} is missing or incomplete"
    # Hashing every file costs milliseconds per megabyte, and every new session asks: a process
    # remembers a match for as long as no file of the artifact changed its size or mtime.
    signature = _files_signature(path)
    key = (str(path), build.artifact_checksum)
    with _verified_lock:
        if _verified.get(key) == signature:
            return None
    if files_checksum(path) != build.artifact_checksum:
        return "its artifact's files do not match the checksum recorded when it was packaged"
    with _verified_lock:
        _verified[key] = signature
        while len(_verified) > 256:
            del _verified[next(iter(_verified))]
    return None


_verified: dict[tuple[str, str], tuple[tuple[str, int, int], ...]] = {}
_verified_lock = threading.Lock()


def _files_signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Each file's name, size and mtime: what changes when a file is rewritten, truncated or added."""
    out = []
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        out.append((str(f.relative_to(path)), st.st_size, st.st_mtime_ns))
    return tuple(out)


def files_checksum(path: Path) -> str:
    """SHA-256 over the artifact's files (names and contents), MANIFEST.json left out."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.name != "MANIFEST.json"):
        h.update(str(f.relative_to(path)).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _write_manifest(build: Build, path: Path) -> str:
    """Write the artifact's MANIFEST.json (its files and checksum); returns the checksum."""
    checksum = files_checksum(path)
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and p.name != "MANIFEST.json")
    manifest = {"build": build.number, "skill": build.skill_id, "spec_hash": build.spec_hash, "files": files}
    (path / "MANIFEST.json").write_text(json.dumps({**manifest, "sha256": checksum}, indent=2) + "\n")
    return checksum
