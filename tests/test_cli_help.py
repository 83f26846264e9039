"""Every command of casework's own CLI is described in Dutch: commands, groups and options."""
from __future__ import annotations

import re

import click
import pytest
from flask.testing import FlaskCliRunner

# Common English words that do not occur in Dutch help texts. A text containing one of them
# (as a whole word) is taken to be English; "of" and "is" are Dutch words too, so they are not in
# the list, and words in capitals (argument names like FILE) are skipped.
ENGLISH_WORDS = {
    "the", "and", "with", "to", "for", "from", "this", "that", "are", "be", "by",
    "or", "on", "into", "every", "each", "when", "which", "will", "run", "create", "show",
    "instead", "until", "file", "only", "without", "letters", "database", "default",
}
DUTCH_ALLOWED = {"database"}  # the same word in Dutch
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+")


def _own_commands(group: click.Group, path=()):
    for name, cmd in sorted(group.commands.items()):
        callback = getattr(cmd, "callback", None)
        if callback is None or not callback.__module__.startswith("casework"):
            continue
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _own_commands(cmd, (*path, name))


def english_words(text: str) -> set[str]:
    words = {w.lower() for w in _WORD.findall(text) if not w.isupper()}
    return words & (ENGLISH_WORDS - DUTCH_ALLOWED)


def _texts(app):
    for path, cmd in _own_commands(app.cli):
        name = " ".join(path)
        yield name, cmd.help
        for param in cmd.params:
            if isinstance(param, click.Option):
                yield f"{name} {param.opts[0]}", param.help


def test_the_walk_finds_casework_commands_and_not_flasks(app):
    names = {" ".join(p) for p, _ in _own_commands(app.cli)}
    for expected in ("demo", "worker", "tick", "db", "db upgrade", "audit verify",
                     "access-log prune", "letters sweep", "duo import", "duo export",
                     "import-vrijstellingen", "generate", "admin", "admin create-user"):
        assert expected in names
    assert not names & {"run", "shell", "routes"}


def test_every_command_and_option_has_help(app):
    missing = [name for name, text in _texts(app) if not (text or "").strip()]
    assert not missing, f"zonder help: {missing}"


def test_every_help_text_is_dutch(app):
    english = {name: sorted(english_words(text)) for name, text in _texts(app)
               if text and english_words(text)}
    assert not english, f"Engelse woorden in help: {english}"


@pytest.mark.parametrize("text", [
    "Create or migrate the database to the newest revision.",
    "Re-enqueue letters still pending or failed.",
    "Render every pending letter in this process (no worker needed).",
    "Seal the closed batches of access-log rows.",
])
def test_the_check_catches_english(text):
    assert english_words(text)


@pytest.mark.parametrize("text", [
    "Maak de database aan of werk haar bij tot REVISION.",
    "Zet nu de brieven met pogingen opnieuw in de wachtrij.",
])
def test_the_check_lets_dutch_through(text):
    assert not english_words(text)


def test_group_help_on_the_command_line(app):
    result = FlaskCliRunner(app).invoke(args=["duo", "--help"])
    assert result.exit_code == 0, result.output
    assert "verzuimmeldingen importeren" in result.output
    sub = FlaskCliRunner(app).invoke(args=["access-log", "prune", "--help"])
    assert sub.exit_code == 0, sub.output
    assert "bewaartermijn" in sub.output and "Wie opschoont" in sub.output
