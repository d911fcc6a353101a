"""Settings, built once per process and passed in (never a module-level singleton)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from amanat.core.passwords import passphrase_problem

PLACEHOLDER_SECRETS = {"", "changethis", "change-me", "secret", "development-only-secret"}
DEV_SECRET = "development-only-secret"  # noqa: S105 - refused outside development  # nosec B105


class Settings(BaseSettings):
    """Every setting is documented in docs/operations.md; names take the AMANAT_ prefix in the environment."""

    model_config = SettingsConfigDict(env_prefix="AMANAT_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file inside data_dir
    secret_key: SecretStr = SecretStr(DEV_SECRET)  # signs nothing secret-bearing; used for cookies' HMAC
    passphrase: SecretStr | None = None  # unlocks the organisation's private keys for unattended start
    host: str = "127.0.0.1"
    port: int = 8000
    # The public URL (https://… in production), used for ODK form downloads and the Origin check; never
    # taken from a request's Host header. Empty (development only): http://host:port.
    base_url: str = ""
    https: bool = False  # set from an https base URL: Secure cookies with the __Host- prefix, HSTS, Basic auth
    # Addresses (or networks, CIDR) of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed.
    # Empty: the headers are ignored and the socket's address is the client's.
    trusted_proxies: tuple[str, ...] = ()
    # Production refuses a plain-http base URL unless this is set AND trusted_proxies is set (TLS ends at a
    # proxy on a network you trust); every start then logs a warning.
    allow_plain_http: bool = False
    run_worker_in_process: bool = True  # embedded default: the worker thread lives in the server
    worker_poll_seconds: float = 0.2
    max_upload_bytes: int = 10 * 1024 * 1024  # one attachment
    max_request_bytes: int = 40 * 1024 * 1024  # one whole submission
    session_hours: int = 8  # absolute lifetime of a sign-in
    session_idle_minutes: int = 30  # a sign-in unused this long ends
    key_refresh_seconds: float = 5.0  # how often a running server looks for keys rotated by `amanat keys rotate`
    case_work_minutes: int = Field(default=15, ge=1, le=240)  # "work on this case": how long values stay shown
    # Which cases a caseworker sees: "all", or "team" (cases assigned to members of their teams, and unassigned
    # ones in their teams' provinces or, for an intake team, all unassigned ones; amanat/cases/scope.py).
    case_scope: Literal["all", "team"] = "all"
    login_max_failures: int = 5  # per (username, address) in the window: then 429 for that pair
    login_window_seconds: int = 900
    login_address_max_failures: int = 100  # per address in the window: high enough for an office behind one NAT
    login_account_free_failures: int = 10  # per account in the window; beyond, each try waits 2^n s (a code skips)
    # Authenticator codes for every staff sign-in. None: required in production, off in development and test.
    require_totp: bool | None = None
    # Bearer token for /healthz/details (key state, queue counts) for a monitor; staff with dashboard access
    # see the details without it. Empty: only signed-in staff.
    health_token: SecretStr | None = None
    log_level: str = "INFO"
    languages: tuple[str, ...] = ("en", "fa_AF", "ps_AF")
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    demo: bool = False
    # Pathways and their checklists (JSON or YAML, as amanat/cases/pathways.json); empty: the shipped file.
    pathways_file: Path | None = None
    # How many people one export may hold, per role; above it a second person with export:create approves.
    export_limits: dict[str, int] = Field(default_factory=lambda: {"caseworker": 100})
    # What one imported file may unpack to, counted while it is read (intake/upload_limits.py).
    import_max_unpacked_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    import_max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)  # one archive member
    import_max_rows: int = Field(default=50_000, ge=1)
    import_max_columns: int = Field(default=200, ge=1)
    import_max_cell_chars: int = Field(default=10_000, ge=1)
    import_max_lines: int = Field(default=500_000, ge=1)  # of a WhatsApp chat text
    import_max_messages: int = Field(default=100_000, ge=1)
    import_max_attachments: int = Field(default=5_000, ge=0)
    # `serve --sealed-only`: the public form and OpenRosa only, public keys only (see docs/operations.md).
    sealed_only: bool = False
    # Reveals (and other bulk reads) per user per hour before further ones are blocked and an alarm raised.
    bulk_access_per_hour: int = Field(default=60, ge=1)
    # How much one address may send to anonymous intake and OpenRosa, and one account may import.
    intake_posts_per_minute: int = Field(default=30, ge=1)  # per client address
    intake_bytes_per_day: int = Field(default=200 * 1024 * 1024, ge=1024)  # per client address
    imports_per_hour: int = Field(default=20, ge=1)  # per account
    import_bytes_per_day: int = Field(default=500 * 1024 * 1024, ge=1024)  # per account
    # The audit chain's signed head is appended here every audit_anchor_seconds (keep a copy elsewhere).
    audit_anchor_path: Path | None = None
    audit_anchor_seconds: int = Field(default=300, ge=5)
    # `amanat backup` seals to this X25519 public key (amanat-pk1:…, from `amanat backup keygen`); its private
    # half is kept offline, so the server can make backups but never read them.
    backup_public_key: str = ""

    # Tests lower the KDF cost; production refuses weak settings below.
    kdf_time_cost: int = Field(default=3, ge=1)
    kdf_memory_kib: int = Field(default=65536, ge=8)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.get_secret_value() in PLACEHOLDER_SECRETS:
                raise ValueError("AMANAT_SECRET_KEY must be set to a real secret in production")
            if self.kdf_memory_kib < 65536 or self.argon2_memory_kib < 65536:
                raise ValueError("argon2 memory cost below 64 MiB is refused in production")
            if self.passphrase is not None and self.passphrase.get_secret_value() in PLACEHOLDER_SECRETS:
                raise ValueError("AMANAT_PASSPHRASE is a placeholder")
            if self.passphrase is not None:
                problem = passphrase_problem(self.passphrase.get_secret_value())
                if problem:
                    raise ValueError(f"AMANAT_PASSPHRASE is too weak for production: {problem}")
            self._refuse_plain_http()
        if self.base_url.startswith("https://"):
            self.https = True
        return self

    def _refuse_plain_http(self) -> None:
        if not self.base_url:
            raise ValueError("AMANAT_BASE_URL must be set in production (https://…): the forms' submission URL "
                             "is never taken from a request's Host header")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("AMANAT_BASE_URL must start with https://")
        if not self.base_url.startswith("https://") and not (self.allow_plain_http and self.trusted_proxies):
            raise ValueError("AMANAT_BASE_URL must be https:// in production (set AMANAT_ALLOW_PLAIN_HTTP=1 "
                             "with AMANAT_TRUSTED_PROXIES only when TLS ends at a proxy you trust)")

    @property
    def totp_required(self) -> bool:
        return self.environment == "production" if self.require_totp is None else self.require_totp

    @property
    def public_origin(self) -> str:
        """scheme://host[:port] of the public URL; empty in development without a base URL."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'amanat.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
