"""Settings: ``config/tapewatch.toml`` overridden by ``TAPEWATCH_*`` env vars (``__`` nests).

Built by :func:`load_settings` and passed in, never at import time, so a test or a CLI flag can
choose the file and no module needs a token to import.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.analysis.liq_basis import LiqBands

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An installed (non-editable) package has no config/ beside it: the image sets TAPEWATCH_CONFIG.
DEFAULT_CONFIG = Path(os.environ.get("TAPEWATCH_CONFIG") or PROJECT_ROOT / "config" / "tapewatch.toml")


class ConfigError(Exception):
    """A bad setting; the message is one line naming the key and what is allowed."""


def _url(*schemes: str) -> Any:
    def check(value: str) -> str:
        if not value.startswith(tuple(f"{s}://" for s in schemes)):
            raise ValueError(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return value.rstrip("/")

    return AfterValidator(check)


HttpUrl = Annotated[str, _url("http", "https")]
WsUrl = Annotated[str, _url("ws", "wss")]


class Section(BaseModel):
    model_config = {"extra": "forbid"}


class JobSettings(Section):
    tickers_seconds: int = Field(60, ge=5, le=3600)
    markets_seconds: int = Field(300, ge=30, le=86400)
    candles_seconds: int = Field(300, ge=30, le=86400)
    derivatives_seconds: int = Field(300, ge=30, le=86400)
    macro_seconds: int = Field(900, ge=60, le=86400)
    sentiment_seconds: int = Field(21600, ge=600, le=86400)  # the Fear & Greed index is daily
    jitter_seconds: int = Field(5, ge=0, le=300)
    stale_after_seconds: int = Field(300, ge=30)
    retention_days: int = Field(35, ge=1, le=3650)


class TrackingSettings(Section):
    """Which coins are tracked: the top ``size`` by market cap that trade on the venues,
    refreshed daily, plus ``coins`` (``top``); or ``coins`` alone (``fixed``, the old way)."""

    mode: Literal["top", "fixed"] = "top"
    size: int = Field(100, ge=1, le=200)
    refresh_hours: float = Field(24.0, ge=1, le=24 * 7)
    backfill_seconds: int = Field(60, ge=5, le=3600)
    backfill_coins_per_run: int = Field(5, ge=1, le=100)


class AnswerSettings(Section):
    cache_size: int = Field(512, ge=0, le=100_000)
    max_age_seconds: int = Field(30, ge=0, le=3600)
    workers: int = Field(2, ge=1, le=64)
    max_wait_seconds: float = Field(20.0, gt=0, le=600)
    liquidation_grace_seconds: float = Field(10.0, ge=0, le=300)
    chart_processes: bool = True


class WatchSettings(Section):
    max_per_user: int = Field(25, ge=1, le=200)
    hysteresis_pct: float = Field(0.5, ge=0, le=20)
    max_distance: float = Field(10.0, gt=1, le=1000)


class DiscordSettings(Section):
    sync_guild: int = Field(0, ge=0, description="0 = global sync")
    # A stand-in for Discord serving REST at /api/v10 and the gateway at /gateway (the loopback
    # fake in tests); empty: Discord itself.
    api_url: HttpUrl | Literal[""] = ""
    # One channel post (alerts, briefs) may take this long, rate-limit waits included; a claim
    # on an outbox row lasts two of these plus a margin (bot.alerts.outbox).
    post_timeout_seconds: float = Field(30.0, ge=1, le=300)


class HttpSettings(Section):
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    retries: int = Field(3, ge=0, le=10)
    backoff_base_seconds: float = Field(0.5, ge=0)
    backoff_max_seconds: float = Field(30.0, gt=0)


class BinanceSettings(Section):
    enabled: bool = True
    spot_url: HttpUrl = "https://data-api.binance.vision"
    futures_url: HttpUrl = "https://fapi.binance.com"
    futures_ws_url: WsUrl = "wss://fstream.binance.com/market"
    requests_per_minute: int = Field(1200, gt=0)


class BybitSettings(Section):
    enabled: bool = True
    rest_url: HttpUrl = "https://api.bybit.com"
    ws_url: WsUrl = "wss://stream.bybit.com/v5/public/linear"
    requests_per_minute: int = Field(600, gt=0)


class OkxSettings(Section):
    enabled: bool = True
    rest_url: HttpUrl = "https://www.okx.com"
    ws_url: WsUrl = "wss://ws.okx.com:8443/ws/v5/public"
    requests_per_minute: int = Field(300, gt=0)


class CoinGeckoSettings(Section):
    enabled: bool = True
    rest_url: HttpUrl = "https://api.coingecko.com/api/v3"
    requests_per_minute: int = Field(10, gt=0)


class YahooSettings(Section):
    enabled: bool = True
    rest_url: HttpUrl = "https://query2.finance.yahoo.com"
    requests_per_minute: int = Field(30, gt=0)


class FredSettings(Section):
    """FRED's keyless CSV download: daily macro closes when Yahoo fails."""

    enabled: bool = True
    rest_url: HttpUrl = "https://fred.stlouisfed.org"
    requests_per_minute: int = Field(30, gt=0)


class AlternativeSettings(Section):
    """alternative.me's keyless Fear & Greed index (daily)."""

    enabled: bool = True
    rest_url: HttpUrl = "https://api.alternative.me"
    requests_per_minute: int = Field(10, gt=0)


class ProviderSettings(Section):
    binance: BinanceSettings = BinanceSettings()
    bybit: BybitSettings = BybitSettings()
    okx: OkxSettings = OkxSettings()
    coingecko: CoinGeckoSettings = CoinGeckoSettings()
    yahoo: YahooSettings = YahooSettings()
    fred: FredSettings = FredSettings()
    alternative: AlternativeSettings = AlternativeSettings()


class _TomlWithoutSecrets(TomlConfigSettingsSource):
    """The settings file, refusing a token in it: the token comes from the environment only,
    so it never lands in a file that gets committed or shared."""

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        discord_section = data.get("discord")
        top = {k.lower() for k in data}
        if top & {"discord_token", "token"} or (
            isinstance(discord_section, dict) and "token" in discord_section
        ):
            raise ConfigError(
                "config error: the Discord token must not be in the settings file; "
                "remove it and set the DISCORD_TOKEN environment variable instead"
            )
        return data


class _DotEnvKnownKeys(DotEnvSettingsSource):
    """``.env`` beside where tapewatch runs: our settings (and ``DISCORD_TOKEN``) from it, other
    variables (docker compose's own, another tool's) left alone instead of refused."""

    def __call__(self) -> dict[str, Any]:
        known = {*self.settings_cls.model_fields, "DISCORD_TOKEN"}
        return {k: v for k, v in super().__call__().items() if k in known}


DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(target: object) -> bool:
    """Whether a ``db`` setting names a PostgreSQL database (else it is a SQLite file)."""
    return isinstance(target, str) and target.startswith(DATABASE_SCHEMES)


def redact_url(target: object) -> str:
    """The ``db`` setting as it may be printed or logged: a URL's password hidden."""
    text = str(target)
    if not is_database_url(text):
        return text
    text = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", text)
    return re.sub(r"(password=)[^&\s]*", r"\1***", text, flags=re.I)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TAPEWATCH_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=DEFAULT_CONFIG,
        env_file=".env",  # beside where tapewatch runs (docker compose reads the same file)
        env_file_encoding="utf-8",
    )

    # a SQLite file (the default, one machine) or a postgresql:// URL (several processes)
    db: Path | str = Path("tapewatch.db")
    coins: list[str] = Field(default_factory=lambda: ["BTC", "ETH", "SOL", "BNB", "XRP"], min_length=1)
    jobs: JobSettings = JobSettings()
    tracking: TrackingSettings = TrackingSettings()
    discord: DiscordSettings = DiscordSettings()
    answers: AnswerSettings = AnswerSettings()
    watches: WatchSettings = WatchSettings()
    http: HttpSettings = HttpSettings()
    providers: ProviderSettings = ProviderSettings()
    liquidations: LiqBands = LiqBands()  # the baseline-free bars for liquidation spikes
    log_format: Literal["plain", "json"] = "plain"  # json: one object per line, for log shippers
    # The token comes only from the environment (``DISCORD_TOKEN``), never from the TOML file.
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN", exclude=True)

    @field_validator("db", mode="before")
    @classmethod
    def _db_target(cls, value: Any) -> Path | str:
        """A ``postgresql://`` URL stays a string; anything else is a SQLite file path."""
        if is_database_url(value):
            return str(value)
        return Path(value)

    @property
    def db_file(self) -> Path | None:
        """The SQLite store's file, or None when the store is a PostgreSQL database."""
        return None if is_database_url(self.db) else Path(self.db)

    @property
    def db_label(self) -> str:
        """The store as messages may name it (a URL's password hidden)."""
        return redact_url(self.db)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        dotenv = (
            _DotEnvKnownKeys(settings_cls)
            if isinstance(dotenv_settings, DotEnvSettingsSource)
            else dotenv_settings
        )
        return (init_settings, env_settings, dotenv, _TomlWithoutSecrets(settings_cls))


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``config`` (default ``config/tapewatch.toml``), env vars, then overrides."""
    path = config or Path(os.environ.get("TAPEWATCH_CONFIG") or DEFAULT_CONFIG)
    if not path.is_file():
        raise ConfigError(f"config: file not found: {path}")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return _FromFile(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except ValueError as exc:  # a TOML syntax error surfaces as a ValueError subclass
        raise ConfigError(f"config: {path}: {exc}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad key, without echoing secret values."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "config"
        # Never echo a value that may be a secret: the token, anything named like one, or an
        # unknown key (someone may have put the token under a name we do not know).
        secretish = any(w in key.lower() for w in ("token", "secret", "password", "key"))
        if secretish or err["type"] == "extra_forbidden":
            parts.append(f"config error: {key}: {err['msg']}")
            continue
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        parts.append(f"config error: {key}: {err['msg']}{shown}")
    return "; ".join(parts)
