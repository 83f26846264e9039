"""The README's settings table names every CASEWORK_* variable the code reads, and nothing else."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NAME = re.compile(r"CASEWORK_[A-Z0-9_]*[A-Z0-9]")
# Where settings are read: the app, its configuration, the WSGI entry, the gunicorn settings,
# the scripts (run.sh, test.sh) and the test suite's own switches.
SOURCES = ["casework", "config", "wsgi.py", "deploy/gunicorn.conf.py", "scripts", "tests"]
THIS_FILE = Path(__file__).resolve()


def _source_files():
    for entry in SOURCES:
        path = REPO / entry
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in files:
            if file.suffix in (".py", ".sh") and file.resolve() != THIS_FILE:
                yield file


def _names_built_in_loops(source: str) -> set[str]:
    """config/__init__.py reads many settings as f"CASEWORK_{key}" for key in a tuple of names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.For) and isinstance(node.iter, (ast.Tuple, ast.List))):
            continue
        prefixes = {part.value for sub in ast.walk(node) if isinstance(sub, ast.JoinedStr)
                    for part in sub.values[:1]
                    if isinstance(part, ast.Constant) and str(part.value).startswith("CASEWORK_")}
        for prefix in prefixes:
            names |= {prefix + elt.value for elt in node.iter.elts
                      if isinstance(elt, ast.Constant) and isinstance(elt.value, str)}
    return names


def settings_in_code() -> set[str]:
    names: set[str] = set()
    for file in _source_files():
        text = file.read_text(encoding="utf-8")
        names |= set(NAME.findall(text))
        if file.suffix == ".py":
            names |= _names_built_in_loops(text)
    return names


def settings_in_readme(readme: str | None = None) -> list[str]:
    """The names in the first column of every table row under the README's Settings heading."""
    readme = (REPO / "README.md").read_text(encoding="utf-8") if readme is None else readme
    section = re.search(r"^## Settings\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert section, "README: no '## Settings' section"
    names: list[str] = []
    for line in section.group(1).splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        first_cell = line.split("|")[1]
        names += NAME.findall(first_cell)
    return names


def test_the_code_scan_finds_settings_read_every_way():
    found = settings_in_code()
    assert "CASEWORK_DATABASE_URL" in found          # a literal in config
    assert "CASEWORK_INVITATION_DAYS" in found       # built as f"CASEWORK_{key}"
    assert "CASEWORK_WEB_TIMEOUT" in found           # deploy/gunicorn.conf.py
    assert "CASEWORK_TEST_DATABASE_URL" in found     # tests/conftest.py
    assert "CASEWORK_PORT" in found                  # scripts/run.sh


def test_every_setting_the_code_reads_is_in_the_readme_table():
    missing = settings_in_code() - set(settings_in_readme())
    assert not missing, f"not in the README's settings table: {sorted(missing)}"


def test_every_row_of_the_table_is_a_setting_the_code_reads():
    rows = settings_in_readme()
    assert len(rows) > 40
    stale = set(rows) - settings_in_code()
    assert not stale, f"the README's settings table names what the code does not read: {sorted(stale)}"
    twice = {name for name in rows if rows.count(name) > 1}
    assert not twice, f"twice in the settings table: {sorted(twice)}"


def test_a_removed_row_is_noticed():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `CASEWORK_INVITATION_DAYS`"))
    assert "CASEWORK_INVITATION_DAYS" not in settings_in_readme(readme.replace(row + "\n", ""))


@pytest.mark.parametrize("name", ["CASEWORK_DATABASE_URL", "CASEWORK_TEST_DATABASE_URL"])
def test_the_table_gives_a_default(name):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}`"))
    assert len([cell for cell in row.split("|")[1:-1] if cell.strip()]) == 3
