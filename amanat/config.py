"""Settings, built once per process and passed in (never a module-level singleton)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changethis", "change-me", "secret", "development-only-secret"}
DEV_SECRET = "development-only-secret"  # noqa: S105 - refused outside development


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
    base_url: str = ""  # public URL, used in ODK form downloads; empty: derived from the request
    https: bool = False  # cookies get Secure and __Host- prefix; Basic auth allowed only then
    run_worker_in_process: bool = True  # embedded default: the worker thread lives in the server
    worker_poll_seconds: float = 0.2
    max_upload_bytes: int = 10 * 1024 * 1024  # one attachment
    max_request_bytes: int = 40 * 1024 * 1024  # one whole submission
    session_hours: int = 8
    case_work_minutes: int = Field(default=15, ge=1, le=240)  # "work on this case": how long values stay shown
    login_max_failures: int = 5
    login_window_seconds: int = 900
    log_level: str = "INFO"
    languages: tuple[str, ...] = ("en", "fa_AF", "ps_AF")
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    demo: bool = False
    # What one imported file may unpack to, counted while it is read (intake/upload_limits.py).
    import_max_unpacked_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    import_max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)  # one archive member
    import_max_rows: int = Field(default=50_000, ge=1)
    import_max_columns: int = Field(default=200, ge=1)
    import_max_cell_chars: int = Field(default=10_000, ge=1)
    import_max_lines: int = Field(default=500_000, ge=1)  # of a WhatsApp chat text
    import_max_messages: int = Field(default=100_000, ge=1)
    import_max_attachments: int = Field(default=5_000, ge=0)

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
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'amanat.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
