"""The one settings object, read once from the environment and `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "your_token", "your_sid", "sk-...", "..."}
DEFAULT_LITELLM_CONFIG = Path(__file__).with_name("litellm_config.yaml")


class Settings(BaseSettings):
    """Every knob of a deployment; names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    app_env: Literal["development", "test", "production"] = "development"
    app_debug: bool = False
    data_dir: Path = Path("./data")
    database_url: str | None = None
    admin_api_key: SecretStr = SecretStr("change-me")
    public_base_url: str | None = None

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_number: str | None = None
    twilio_api_base_url: str | None = None
    webhook_validation: bool = True
    """Check X-Twilio-Signature on webhooks; False is refused outside development."""
    webhook_tenant_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    """How long a webhook may use a tenant read earlier (0: read it on every request)."""
    twilio_send_attempts: int = Field(default=5, ge=1, le=20)
    twilio_retry_base_seconds: float = Field(default=0.5, ge=0, le=60)
    twilio_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    """How long one Twilio API call may take before its outcome counts as unknown."""
    outbound_deadline_seconds: float = Field(default=900.0, gt=0, le=86_400)
    """An unsent message is retried (with backoff) until this long after it was written;
    then it is marked failed and the conversation goes to a person (reason `error`)."""

    debounce_seconds: float = Field(default=3.0, ge=0, le=15)
    """Quiet window before a burst of messages is answered (tenant setting overrides it)."""
    debounce_cap_seconds: float = Field(default=15.0, ge=0, le=60)
    """A burst is answered at the latest this long after its first message."""
    throttle_per_minute: int = Field(default=20, ge=1)
    worker_enabled: bool = True
    worker_concurrency: int = Field(default=16, ge=1, le=256)
    worker_poll_seconds: float = Field(default=0.05, gt=0, le=10)

    openai_api_key: SecretStr | None = None
    google_api_key: SecretStr | None = None
    llm_mode: Literal["auto", "llm", "extractive"] = "auto"
    litellm_config: Path = DEFAULT_LITELLM_CONFIG
    turn_budget_seconds: float = 20.0

    qdrant_url: str | None = None
    qdrant_host: str | None = None
    qdrant_port: int = 6333
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "atiende_knowledge"

    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_region: str = "us-east-1"
    sentiment_provider: Literal["offline", "comprehend"] = "offline"

    embedding_threads: int = max(1, os.cpu_count() or 1)

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith(  # type: ignore[union-attr]
            ("postgresql://", "postgres://")
        )

    @property
    def qdrant_server_url(self) -> str | None:
        """The Qdrant server to use, or None for the embedded engine."""
        if self.qdrant_url:
            return self.qdrant_url
        if self.qdrant_host:
            return f"http://{self.qdrant_host}:{self.qdrant_port}"
        return None

    @model_validator(mode="after")
    def _reject_placeholder_secrets(self) -> Settings:
        if not self.webhook_validation and self.app_env != "development":
            raise ValueError("WEBHOOK_VALIDATION=false is allowed only with APP_ENV=development")
        if self.app_env != "production":
            return self
        if self.admin_api_key.get_secret_value() in PLACEHOLDER_SECRETS:
            raise ValueError("ADMIN_API_KEY must be set to a real secret outside development")
        if (
            self.twilio_auth_token
            and self.twilio_auth_token.get_secret_value() in PLACEHOLDER_SECRETS
        ):
            raise ValueError("TWILIO_AUTH_TOKEN is a placeholder")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call `get_settings.cache_clear()` after changing env)."""
    return Settings()
