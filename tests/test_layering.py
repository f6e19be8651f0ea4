"""Imports never climb the app order (DESIGN.md): enrolment at the bottom, then
questionnaires, follow-up, analysis, data management, paper, privacy, accounts, the API
and trialsite at the top. A lower app that needs a higher one's answer reaches it through
a hook the higher app fills in (a signal, a registry filled in ``AppConfig.ready``).

Every module of every app is read with ``ast`` (not its tests, not its migrations), and
every import counts: at the top of the module or inside a function.

trialsite is two things: the project's foundation (settings, the Celery app, the
scheduler's heartbeat, log redaction, error pages, compiled queries, the history managers,
the embedded file cache), which imports no app and which every app may use, and the top
(URLs, the demo, the old ``trialsite.roles`` name), which may import everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = [
    "enrolment",
    "questionnaires",
    "implementation",
    "followup",
    "analysis",
    "datamanagement",
    "paper",
    "privacy",
    "accounts",
    "api",
    "trialsite",
]
RANK = {app: i for i, app in enumerate(ORDER)}
FOUNDATION = {
    "trialsite",  # the package itself: the Celery app
    "trialsite.apps",
    "trialsite.celery",
    "trialsite.compiled",
    "trialsite.errors",
    "trialsite.filecache",
    "trialsite.history",
    "trialsite.logfilters",
    "trialsite.models",
    "trialsite.redaction",
    "trialsite.settings",
    "trialsite.tasks",
    "trialsite.warmup",
    "trialsite.wsgi",
}


def _modules():
    for app in ORDER:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            rel = path.relative_to(ROOT)
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield app, ".".join(parts), path


def _imports(module: str, path: Path):
    """(line, imported module) for every import in the file, absolute or relative."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            # ``from trialsite import roles`` imports the module trialsite.roles.
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def _layer(target: str) -> str | None:
    """The app ``target`` belongs to, or None for Django, libraries and the foundation."""
    top = target.split(".")[0]
    if top not in RANK:
        return None
    if top == "trialsite" and _foundation(target):
        return None
    return top


def _foundation(target: str) -> bool:
    return _module_of(target) in FOUNDATION


def _module_of(target: str) -> str:
    """``target`` if it is a module of ours, else the module it names something in
    ("trialsite.settings.DEBUG" is trialsite.settings's; "trialsite.roles" is a module)."""
    path = ROOT.joinpath(*target.split("."))
    if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
        return target
    return target.rpartition(".")[0]


def climbing_imports() -> list[str]:
    found = []
    for app, module, path in _modules():
        for line, target in _imports(module, path):
            layer = _layer(target)
            if layer and RANK[layer] > RANK[app]:
                found.append(f"{path.relative_to(ROOT)}:{line}: {app} imports {target}")
    return sorted(set(found))


def test_no_import_climbs_the_app_order():
    found = climbing_imports()
    assert not found, "imports that climb the app order:\n" + "\n".join(found)


def test_the_foundation_imports_no_app():
    found = []
    for app, module, path in _modules():
        if app != "trialsite" or module not in FOUNDATION:
            continue
        for line, target in _imports(module, path):
            if target.split(".")[0] in RANK and not _foundation(target):
                found.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {target}")
    assert not found, "the foundation imports apps:\n" + "\n".join(found)


def test_the_check_sees_function_local_and_relative_imports(tmp_path):
    """The reader itself: an import inside a function counts, and so does a relative one."""
    source = "def f():\n    from followup.models import Contact\n    from . import tags\n"
    path = tmp_path / "mod.py"
    path.write_text(source)
    targets = [t for _, t in _imports("enrolment.mod", path)]
    assert "followup.models" in targets and "enrolment.tags" in targets
    assert _layer("trialsite.roles") == "trialsite"
    assert _layer("trialsite.redaction.redact") is None
    assert _layer("trialsite") is None and _layer("django.db") is None
