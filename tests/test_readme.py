"""The README is what a newcomer follows: every site path it names opens a page, and its
configuration table names exactly the environment variables the settings read."""

import ast
import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

# A backticked URL path (optionally with scheme and host) ending in "/": Django's paths
# all do, and file paths such as `/usr/bin/chromium` or `var/bb.sav` are left out.
PATH = re.compile(r"`(?:https?://[^/`\s]+)?(/[^`\s]*/)`")
PLACEHOLDER = re.compile(r"<[^>]+>")
ENV_NAME = re.compile(r"`([A-Z][A-Z0-9_]{2,})`")


def readme_paths() -> list[str]:
    return sorted(set(PATH.findall(README)))


def config_table() -> str:
    section = README.split("## Configuration (environment variables)", 1)[1]
    return "\n".join(
        line for line in section.split("\n## ", 1)[0].splitlines() if line.startswith("|")
    )


def table_variables() -> set[str]:
    """The names in the first column of the configuration table."""
    first_column = [row.split("|")[1] for row in config_table().splitlines()]
    return {name for cell in first_column for name in ENV_NAME.findall(cell)}


def settings_variables() -> set[str]:
    """Every NAME the settings read with env.<type>("NAME") or env_secret("NAME")
    (which also reads NAME_FILE)."""
    tree = ast.parse((ROOT / "trialsite" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id == "env":
                names.add(first.value)
        elif isinstance(func, ast.Name) and func.id == "env_secret":
            names.update({first.value, f"{first.value}_FILE"})
    return names


def test_the_readme_names_paths_at_all():
    assert "/s/<token>/" in readme_paths()
    assert len(readme_paths()) >= 5


@pytest.mark.parametrize("path", readme_paths())
def test_every_path_the_readme_names_resolves(path):
    concrete = PLACEHOLDER.sub("x1", path)
    try:
        resolve(concrete)
    except Resolver404:
        pytest.fail(f"README names {path} ({concrete}), which is 404 in the URLconf")


def test_every_variable_in_the_configuration_table_is_read_by_the_settings():
    unknown = table_variables() - settings_variables()
    assert not unknown, f"README's table names variables the settings never read: {unknown}"


def test_every_variable_the_settings_read_is_in_the_configuration_table():
    missing = settings_variables() - table_variables()
    assert not missing, f"settings read variables the README's table omits: {sorted(missing)}"
