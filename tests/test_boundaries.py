"""The layers import only downwards: skillspec <- simulator <- modeling <- studio, no web code below
studio, and inside studio skills <- builds <- runtime (docs/adr/0001)."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

PURE_PACKAGES = ["skillspec", "simulator", "modeling"]
FORBIDDEN = {"django", "rest_framework", "celery", "studio"}


def is_web(module: str) -> bool:
    """Whether ``module`` is web-side code: Django, DRF, Celery, their plug-ins, or the studio."""
    top = module.split(".")[0]
    return top in FORBIDDEN or top.startswith(("django_", "drf_"))


def forbidden_imports(path: Path, source: str) -> list[str]:
    """The web-side modules ``source`` (the file at ``path``) imports, anywhere (even inside functions)."""
    return [m for m in imported_modules(path, source) if is_web(m)]


def existing_packages() -> list[str]:
    return [p for p in PURE_PACKAGES if (ROOT / p).is_dir()]


def test_the_scanner_finds_forbidden_imports():
    source = "import os\nimport django.db\nfrom rest_framework import serializers\n"
    source += "def f():\n    from studio.skills import models\n    import celery, django_htmx\nfrom . import x\n"
    assert forbidden_imports(Path("simulator/x.py"), source) == [
        "django.db",
        "rest_framework",
        "rest_framework.serializers",
        "studio.skills",
        "studio.skills.models",
        "celery",
        "django_htmx",
    ]


@pytest.mark.parametrize("package", existing_packages())
def test_pure_packages_import_nothing_from_the_web_side(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    found = {
        str(path.relative_to(ROOT)): forbidden_imports(path.relative_to(ROOT), path.read_text(encoding="utf-8"))
        for path in files
    }
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
    assert [m for m in loaded if is_web(m)] == []


# ---------------------------------------------------------------- every layering rule (docs/architecture)

# (the importing package, a package it must never import): skillspec <- simulator <- modeling <- studio,
# and inside studio, skills <- builds <- runtime.
LAYER_RULES = [
    ("skillspec", "simulator"),
    ("skillspec", "modeling"),
    ("skillspec", "studio"),
    ("simulator", "modeling"),
    ("simulator", "studio"),
    ("modeling", "studio"),
    ("modeling", "simulator"),
    ("studio.skills", "studio.builds"),
    ("studio.skills", "studio.runtime"),
    ("studio.builds", "studio.runtime"),
    # The project-level web and API infrastructure serves every app and depends on none.
    *(
        (infra, app)
        for infra in ("studio.api", "studio.web")
        for app in ("studio.skills", "studio.builds", "studio.runtime")
    ),
    # ...and the apps take it from there, not from one another's views.
    *((app, f"studio.skills.{m}") for app in ("studio.builds", "studio.runtime") for m in ("api", "views")),
]
# The named exceptions, each with its reason: (file, imported module).
LAYER_EXCEPTIONS = {
    # The CLI's chat answers API calls with the simulator's mock backend (no developer backend exists there).
    ("modeling/__main__.py", "simulator.backend"),
    ("modeling/__main__.py", "simulator.text"),
    # `modeling train` trains on the recipe of a studio build: the files and the skill's samples, which
    # the simulator converts to the annotated format (simulator.samples.training_set).
    ("modeling/__main__.py", "simulator.samples"),
}


def imported_modules(path, source: str) -> list[str]:
    """Every module ``source`` (the file at ``path``, relative to the repository) imports, relative
    imports resolved to absolute names, anywhere in the file (inside functions too)."""
    package = list(path.parent.parts)  # a module's package; an __init__.py's is its own folder
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]  # ``from studio import runtime``
    return found


def layer_violations() -> dict[str, list[str]]:
    offenders: dict[str, list[str]] = {}
    for source_pkg, forbidden in LAYER_RULES:
        folder = ROOT / source_pkg.replace(".", "/")
        files = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
        assert files, source_pkg
        for path in files:
            rel = path.relative_to(ROOT)
            for module in imported_modules(rel, path.read_text(encoding="utf-8")):
                if (module == forbidden or module.startswith(forbidden + ".")) and (
                    str(rel),
                    ".".join(module.split(".")[:2]),
                ) not in LAYER_EXCEPTIONS:
                    offenders.setdefault(str(rel), []).append(module)
    return offenders


def test_the_import_scanner_resolves_relative_and_nested_imports():
    source = "from ..runtime import views\ndef f():\n    from . import selectors\n    import modeling.train\n"
    found = imported_modules(Path("studio/builds/services.py"), source)
    assert "studio.runtime" in found and "studio.runtime.views" in found
    assert "studio.builds.selectors" in found and "modeling.train" in found
    assert imported_modules(Path("studio/__init__.py"), "from .runtime import x\n")[0] == "studio.runtime"


def test_every_layer_imports_only_the_layers_below_it():
    assert layer_violations() == {}
    # Each listed exception is still needed: one that no file uses any more is a rule relaxed for nothing.
    used = set()
    for path, module in LAYER_EXCEPTIONS:
        source = (ROOT / path).read_text(encoding="utf-8")
        if any(m == module or m.startswith(module + ".") for m in imported_modules(Path(path), source)):
            used.add((path, module))
    assert used == LAYER_EXCEPTIONS


def test_the_layer_check_catches_an_import_running_back_up(tmp_path, monkeypatch):
    import shutil

    # A copy of the repository's packages where the spec imports the simulator, and builds the runtime.
    for package in ("skillspec", "simulator", "modeling", "studio"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    (tmp_path / "skillspec" / "sneaky.py").write_text("def f():\n    from simulator.engine import Engine\n")
    (tmp_path / "studio" / "builds" / "sneaky.py").write_text("from ..runtime import services\n")
    (tmp_path / "studio" / "runtime" / "borrow.py").write_text("from studio.skills.views import login_required\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert layer_violations() == {
        "skillspec/sneaky.py": ["simulator.engine", "simulator.engine.Engine"],
        "studio/builds/sneaky.py": ["studio.runtime", "studio.runtime.services"],
        "studio/runtime/borrow.py": ["studio.skills.views", "studio.skills.views.login_required"],
    }
