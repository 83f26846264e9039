"""Password rules (ASVS 5.0 V6.2): long enough, not too long, not common. No composition rules.

A password is refused when it is shorter than PASSWORD_MIN_LENGTH (12) or longer than
PASSWORD_MAX_LENGTH (128) characters, or when it is (apart from digits and signs at the start or
end, and simple letter swaps such as 0 for o) one of the common and breached passwords in
casework/data/common_passwords.txt, or when it is built from one short piece repeated, a
keyboard row or a run of digits. Checked without regard to upper and lower case.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 128

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "€": "e"})
_EDGE = "0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~ €"
_RUNS = ("01234567890123456789", "98765432109876543210", "qwertyuiopasdfghjklzxcvbnm",
         "azertyuiopqsdfghjklmwxcvbn", "abcdefghijklmnopqrstuvwxyz", "1qaz2wsx3edc4rfv5tgb6yhn",
         "zyxwvutsrqponmlkjihgfedcba", "mnbvcxzlkjhgfdsapoiuytrewq")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("casework").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def _normal(password: str) -> str:
    return unicodedata.normalize("NFKC", password).casefold()


def _is_repeated(value: str) -> bool:
    """One short piece over and over: 'aaaaaaaaaaaa', 'abcabcabcabc', 'welkomwelkom'."""
    n = len(value)
    return any(n % size == 0 and value[:size] * (n // size) == value for size in range(1, n // 2 + 1))


def _is_run(value: str) -> bool:
    compact = value.replace(" ", "")
    return len(compact) >= 4 and any(compact in run * 3 for run in _RUNS)


def is_common(password: str) -> bool:
    """True for a password in (or a trivial variant of) the list of common passwords."""
    common = common_passwords()
    value = _normal(password)
    stripped = value.strip(_EDGE)
    candidates = {value, stripped, value.translate(_LEET), stripped.translate(_LEET),
                  value.translate(_LEET).strip(_EDGE)}
    candidates.discard("")
    if any(c in common for c in candidates):
        return True
    if not stripped:  # only digits and signs
        return _is_repeated(value) or _is_run(value)
    return any(_is_repeated(c) or _is_run(c) for c in candidates)


def password_problems(password: str | None, *, email: str = "", naam: str = "") -> list[str]:
    """Dutch, plain-language reasons why this password cannot be used; empty when it is fine."""
    password = password or ""
    length = len(password)
    if length < MIN_LENGTH:
        return [f"Het wachtwoord is te kort: gebruik minimaal {MIN_LENGTH} tekens "
                f"(u gebruikte er {length}). Een zin van een paar woorden is makkelijk te onthouden."]
    if length > MAX_LENGTH:
        return [f"Het wachtwoord is te lang: gebruik maximaal {MAX_LENGTH} tekens "
                f"(u gebruikte er {length})."]
    value = _normal(password)
    personal = {_normal(email).strip(), _normal(email).split("@")[0].strip(), _normal(naam).strip()}
    personal = {p for p in personal if len(p) >= 4}
    if any(value == p or value.strip(_EDGE) == p for p in personal):
        return ["Gebruik niet uw e-mailadres of naam als wachtwoord. Kies iets dat anderen niet "
                "kunnen raden."]
    if is_common(password):
        return ["Dit wachtwoord wordt veel gebruikt of is te voorspelbaar. Kies een ander "
                "wachtwoord, bijvoorbeeld een zin van een paar woorden."]
    return []
