"""Settings, from SHEQUN_* environment variables or a .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where the embedded SQLite store lives unless SHEQUN_DATABASE_URL says otherwise.

    Linux: ~/.local/share/shequn; macOS: ~/Library/Application Support/shequn;
    Windows: %LOCALAPPDATA%\\shequn.
    """
    return user_data_path("shequn", appauthor=False)


class Settings(BaseSettings):
    """All settings of shequn. Each is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="SHEQUN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the store; empty means a SQLite file in data_dir.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the embedded store and generated files.",
    )
    import_batch_size: int = Field(
        default=5000, ge=1, description="Records written per batch during import."
    )
    import_worker: bool = Field(
        default=True,
        description="Parse in a second process while storing, so an import uses two cores.",
    )
    timezone: str = Field(
        default="",
        description="Zone (Area/City) for groups whose own zone is not set; empty: this machine's.",
    )
    analytics_memory_limit: str = Field(
        default="2GB",
        description="Most memory DuckDB may use for the analytics; beyond it, it spills to disk.",
    )
    log_level: str = Field(default="WARNING", description="Logging level of the CLI.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'shequn.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
