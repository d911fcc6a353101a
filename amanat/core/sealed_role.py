"""The PostgreSQL role of a sealed-only intake node: it may store sealed submissions and nothing else.

`serve --sealed-only` faces the internet. If it is broken into, its database login must not lead to the
applicants: this role cannot read records, persons, cases, documents or the linkage tables, nor the wrapped
private keys (org_keys.wrapped_private) or the KDF parameters and check (keystore_meta.kdf, .check) that an
offline passphrase guess would need. What it may do is what the public form and OpenRosa need: read the
public keys, the forms, the device and staff logins (argon2id hashes and encrypted secrets, to authenticate
devices and sessions) and the audit chain's head; insert submissions, their parts and audit events; update
a submission while its OpenRosa parts arrive; count failed logins. `amanat db sealed-role NAME` prints it.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# table → privileges; "(cols)" narrows a SELECT to those columns.
GRANTS: tuple[tuple[str, str], ...] = (
    ("submissions", "SELECT, INSERT, UPDATE"),
    ("submission_parts", "SELECT, INSERT, UPDATE"),
    ("audit_events", "SELECT, INSERT"),
    ("form_versions", "SELECT"),
    ("users", "SELECT"),
    ("device_credentials", "SELECT"),
    ("web_sessions", "SELECT"),
    ("login_throttle", "SELECT, INSERT, UPDATE, DELETE"),
    ("org_keys", "SELECT (key_id, purpose, public_key, active, created_at)"),
    ("keystore_meta", "SELECT (id, organisation)"),
)
SEQUENCES = ("submission_parts_id_seq",)


def _check_names(*names: str) -> None:
    # DDL takes no bound parameters: a name goes into the SQL only once it is a plain identifier
    if not all(_NAME.match(n) for n in names):
        raise ValueError("role and database names must be plain lower-case identifiers")


def sealed_role_sql(role: str, database: str) -> list[str]:
    """The statements, in order, that create (or reset) ``role`` with exactly these rights on ``database``.
    Run them as the database owner; give the role a password with psql's ``\\password``."""
    _check_names(role, database.lower())
    # DDL takes no bound parameters: the two names were checked as plain identifiers just above.
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "  # nosec B608
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT; END IF; END $$",
        f'REVOKE ALL ON DATABASE "{database}" FROM {role}',
        f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
    ]
    for table, rights in GRANTS:
        if "(" in rights:
            verb, cols = rights.split(" ", 1)
            statements.append(f"GRANT {verb} {cols} ON {table} TO {role}")
        else:
            statements.append(f"GRANT {rights} ON {table} TO {role}")
    statements += [f"GRANT USAGE ON SEQUENCE {seq} TO {role}" for seq in SEQUENCES]
    return statements


def drop_role_sql(role: str) -> list[str]:
    """The statements that remove ``role`` and everything granted to it (run as the database owner)."""
    _check_names(role)
    return [f"DROP OWNED BY {role}", f"DROP ROLE {role}"]


__all__ = ["GRANTS", "drop_role_sql", "sealed_role_sql"]
