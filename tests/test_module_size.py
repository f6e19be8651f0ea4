"""A module that passes about 400 lines is asking to become a package (the developers'
guide): one that stays whole says why in its docstring ("over 400 lines" and the reason).
Every module of every app is read, as the layering test reads them (not tests, not
migrations)."""

from __future__ import annotations

import ast

from tests.test_layering import _modules

LIMIT = 400


def _oversized():
    for _app, name, path in _modules():
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n")
        if lines <= LIMIT:
            continue
        docstring = ast.get_docstring(ast.parse(source)) or ""
        yield name, lines, "over 400 lines" in " ".join(docstring.split())


def test_every_module_over_400_lines_says_why():
    silent = [f"{name} ({lines} lines)" for name, lines, reasoned in _oversized() if not reasoned]
    assert not silent, "split these, or say in the docstring why they stay whole: " + ", ".join(
        silent
    )


def test_the_check_reads_the_docstring(tmp_path, monkeypatch):
    import tests.test_module_size as me

    long_body = "x = 1\n" * (LIMIT + 1)
    silent = tmp_path / "silent.py"
    silent.write_text('"""A module."""\n' + long_body)
    reasoned = tmp_path / "reasoned.py"
    reasoned.write_text('"""A module, over 400\n   lines: it is one table."""\n' + long_body)
    monkeypatch.setattr(
        me, "_modules", lambda: [("x", "silent", silent), ("x", "reasoned", reasoned)]
    )
    assert [(n, r) for n, _lines, r in me._oversized()] == [("silent", False), ("reasoned", True)]
