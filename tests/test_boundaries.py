"""The spec, the simulator and the models never depend on the web side (docs/adr/0001)."""

import ast
import json
import subprocess
import sys

import pytest

from .conftest import ROOT

PURE_PACKAGES = ["skillspec", "simulator", "modeling"]
FORBIDDEN = {"django", "rest_framework", "celery", "studio"}


def forbidden_imports(source: str) -> list[str]:
    """Top-level modules imported by ``source`` (anywhere, even inside functions) that are forbidden."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in FORBIDDEN or top.startswith(("django_", "drf_")):
                found.append(name)
    return found


def existing_packages() -> list[str]:
    return [p for p in PURE_PACKAGES if (ROOT / p).is_dir()]


def test_the_scanner_finds_forbidden_imports():
    source = "import os\nimport django.db\nfrom rest_framework import serializers\n"
    source += "def f():\n    from studio.skills import models\n    import celery, django_htmx\nfrom . import x\n"
    assert forbidden_imports(source) == ["django.db", "rest_framework", "studio.skills", "celery", "django_htmx"]


@pytest.mark.parametrize("package", existing_packages())
def test_pure_packages_import_nothing_from_the_web_side(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    found = {str(path.relative_to(ROOT)): forbidden_imports(path.read_text(encoding="utf-8")) for path in files}
    offenders = {path: names for path, names in found.items() if names}
    assert offenders == {}


def test_importing_the_pure_packages_loads_no_web_module():
    code = (
        "import importlib, json, sys\n"
        f"for name in {existing_packages()!r}:\n"
        "    importlib.import_module(name)\n"
        "import skillspec.builtins, skillspec.io, skillspec.refactor, skillspec.validation\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(proc.stdout)
    assert "skillspec" in loaded
    assert [m for m in loaded if m.split(".")[0] in FORBIDDEN or m.startswith(("django_", "drf_"))] == []
