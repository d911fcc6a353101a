"""What a password or passphrase must be: long, not the account's name, and not guessable (zxcvbn).

zxcvbn estimates how many guesses an attacker who knows the common passwords, words, names, keyboard
patterns, dates and repetitions would need; its lists include the most common leaked passwords, so
``password1234`` and ``qwertyuiop12`` fail here however long they are. Pure: imports nothing of Amanat, so
settings can check the production passphrase with it.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_PASSWORD = 12  # the messages below say these numbers
MAX_PASSWORD = 200
# zxcvbn's score 3 is "safely unguessable: moderate protection from an offline slow-hash scenario"
# (about 10^8 guesses or more); argon2id makes each guess slow.
MIN_SCORE = 3
MIN_PASSPHRASE = 16
MIN_PASSPHRASE_SCORE = 4  # the passphrase guards every key offline: the strongest score zxcvbn gives


class WeakPassword(ValueError):
    """Why a password is refused, in a sentence that names the rule (never the password)."""


def check_password(password: str, *, username: str = "", other_inputs: tuple[str, ...] = ()) -> None:
    """Raise WeakPassword when ``password`` is too short, contains the username or is easily guessed."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword("password: at least 12 characters.")  # literal, so the catalogs can translate it
    if len(password) > MAX_PASSWORD:
        raise WeakPassword("password: at most 200 characters.")
    if not password.strip():
        raise WeakPassword("password: spaces alone are not a password.")
    lowered = password.lower()
    name = username.strip().lower()
    if len(name) >= 3 and name in lowered:
        raise WeakPassword("password: must not contain the username.")
    inputs = [x for x in (name, *other_inputs, "amanat") if x]
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < MIN_SCORE:
        raise WeakPassword("password: too easy to guess (a common password, a word with digits, a pattern or "
                           "a repetition). Use several unrelated words.")


def passphrase_problem(passphrase: str) -> str | None:
    """Why a production passphrase is refused, or None when it is strong enough."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"at least {MIN_PASSPHRASE} characters"
    if zxcvbn(passphrase[:100], user_inputs=["amanat"])["score"] < MIN_PASSPHRASE_SCORE:
        return "too easy to guess; use four or more unrelated words"
    return None
