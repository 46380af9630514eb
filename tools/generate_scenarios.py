"""Build the bundled sample scenarios: realistic, deterministic market states for the demo, the
docs and the end-to-end tests. ``python -m tools.generate_scenarios`` (re)writes
``config/scenarios/*.json`` and ``schema.json`` and prints each scenario's key figures.

Each scenario is simulated, not drawn by hand, so the numbers hang together the way the
analysis expects them to: BTC follows a skeleton of swing highs and lows (so support and
resistance exist in the daily history) with fat-tailed hourly noise and volatility clusters;
every alt is β × BTC plus its own noise (so a 30-day regression finds β); the last 24 hours
carry the scenario's story (a cascade, a squeeze, a quiet day…) and the derivatives, liquidations
and macro series are built from the same price path. A fixed seed per scenario makes the files
byte-for-byte reproducible.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bot.coins import CoinRegistry
from bot.scenarios.export import write_scenario
from bot.scenarios.model import Scenario, format_relative, resolve_time, schema_json
from bot.settings import PROJECT_ROOT

F64 = npt.NDArray[np.float64]
Profile = Literal["late", "steady", "news", "flat"]

SCENARIO_DIR = PROJECT_ROOT / "config" / "scenarios"  # same as bot.scenarios.SCENARIO_DIR
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)  # a Tuesday with the US and European markets open
HOUR = timedelta(hours=1)
DAILY_DAYS = 400  # daily bars for the majors (a year of levels plus the 200-day average)
OTHER_DAILY_DAYS = 200  # daily bars for the other tracked coins
HOURLY_DAYS = 35  # hourly bars for the majors: 30 days of beta plus slack
OTHER_HOURLY_DAYS = 31  # hourly bars for the other tracked coins: just enough for beta
PERP_HOURLY_DAYS = 7  # Binance perp bars: enough for spot-vs-perp taker flow
DERIV_DAYS = 35  # open interest, funding, long/short, liquidations
DERIV_HOURLY_HOURS = 48  # hourly derivatives points before that, 8-hourly
MACRO_DAILY_DAYS = 90
MACRO_HOURLY_DAYS = 5
BTC_VOL = 0.0045  # hourly: about 2.2% a day
VENUE_OI = {"binance": 1.0, "bybit": 0.62, "okx": 0.38}
VENUE_LIQ = {"binance": 0.45, "bybit": 0.35, "okx": 0.20}
BACKGROUND_EVENTS_PER_HOUR = 6.0  # sparse on purpose: a sample, not a firehose


@dataclass(frozen=True)
class CoinSpec:
    price: float  # typical level (each scenario moves it a little)
    beta: float  # to BTC, on hourly log returns
    idio: float  # hourly idiosyncratic volatility
    supply: float  # circulating, for market caps
    volume: float  # Binance spot quote volume a day, USD
    oi: float  # Binance perp open interest, USD
    liq: float  # share of liquidation events
    liq_usd: float  # median liquidation, USD


COINS: dict[str, CoinSpec] = {
    "BTC": CoinSpec(90_000, 1.0, 0.0, 19.99e6, 1.6e9, 9.5e9, 0.30, 24_000),
    "ETH": CoinSpec(3_050, 1.15, 0.0042, 120.7e6, 0.9e9, 6.5e9, 0.20, 15_000),
    "SOL": CoinSpec(182, 1.35, 0.0050, 545e6, 0.45e9, 2.4e9, 0.11, 9_000),
    "BNB": CoinSpec(605, 0.75, 0.0040, 140e6, 0.12e9, 0.8e9, 0.03, 6_000),
    "XRP": CoinSpec(2.22, 1.2, 0.0060, 60e9, 0.35e9, 1.6e9, 0.07, 7_000),
    "DOGE": CoinSpec(0.182, 1.45, 0.0075, 150e9, 0.18e9, 1.1e9, 0.05, 5_000),
    "ADA": CoinSpec(0.71, 1.3, 0.0070, 36e9, 0.07e9, 0.5e9, 0.02, 3_000),
    "TRX": CoinSpec(0.28, 0.45, 0.0035, 95e9, 0.05e9, 0.2e9, 0.01, 2_500),
    "AVAX": CoinSpec(22.5, 1.4, 0.0075, 420e6, 0.06e9, 0.35e9, 0.02, 3_000),
    "LINK": CoinSpec(18.2, 1.3, 0.0070, 680e6, 0.07e9, 0.4e9, 0.02, 3_000),
    "TON": CoinSpec(3.05, 0.8, 0.0065, 2.5e9, 0.03e9, 0.15e9, 0.01, 2_000),
    "SHIB": CoinSpec(1.32e-5, 1.3, 0.0070, 589e12, 0.03e9, 0.15e9, 0.01, 2_000),
    "DOT": CoinSpec(4.25, 1.3, 0.0070, 1.6e9, 0.03e9, 0.2e9, 0.01, 2_000),
    "BCH": CoinSpec(485, 1.0, 0.0060, 19.9e6, 0.04e9, 0.3e9, 0.01, 3_000),
    "LTC": CoinSpec(96, 1.1, 0.0060, 76e6, 0.05e9, 0.3e9, 0.01, 2_500),
    "NEAR": CoinSpec(2.95, 1.45, 0.0080, 1.25e9, 0.03e9, 0.2e9, 0.01, 2_000),
    "UNI": CoinSpec(8.6, 1.4, 0.0080, 630e6, 0.03e9, 0.15e9, 0.01, 2_000),
    "APT": CoinSpec(5.6, 1.45, 0.0085, 650e6, 0.02e9, 0.12e9, 0.01, 2_000),
    "SUI": CoinSpec(3.4, 1.6, 0.0090, 3.5e9, 0.08e9, 0.6e9, 0.03, 3_000),
    "PEPE": CoinSpec(1.1e-5, 1.7, 0.0100, 420e12, 0.08e9, 0.5e9, 0.03, 3_000),
}
MAJORS = ("BTC", "ETH", "SOL", "BNB", "XRP")

# The rest of a top 100 for breadth: (CoinGecko id, symbol, market cap in $bn, what it follows).
# "stable" barely moves, "btc"/"eth"/"sol" track that coin, a number is a beta to BTC.
OTHERS: tuple[tuple[str, str, float, str | float], ...] = (
    ("tether", "USDT", 186, "stable"),
    ("usd-coin", "USDC", 76, "stable"),
    ("staked-ether", "STETH", 28, "eth"),
    ("hyperliquid", "HYPE", 14, 1.3),
    ("wrapped-steth", "WSTETH", 12, "eth"),
    ("wrapped-bitcoin", "WBTC", 11, "btc"),
    ("ethena-usde", "USDE", 9.5, "stable"),
    ("leo-token", "LEO", 8.5, 0.2),
    ("stellar", "XLM", 8.2, 1.2),
    ("usds", "USDS", 8.0, "stable"),
    ("wrapped-eeth", "WEETH", 8.0, "eth"),
    ("weth", "WETH", 7.0, "eth"),
    ("coinbase-wrapped-btc", "CBBTC", 7.0, "btc"),
    ("hedera-hashgraph", "HBAR", 6.8, 1.3),
    ("monero", "XMR", 6.5, 0.8),
    ("whitebit", "WBT", 6.0, 0.3),
    ("world-liberty-financial", "WLFI", 5.5, 1.3),
    ("zcash", "ZEC", 5.5, 1.2),
    ("dai", "DAI", 5.3, "stable"),
    ("pi-network", "PI", 5.0, 0.5),
    ("aave", "AAVE", 4.2, 1.4),
    ("bittensor", "TAO", 3.6, 1.5),
    ("crypto-com-chain", "CRO", 3.5, 1.0),
    ("ethena", "ENA", 3.4, 1.7),
    ("bitget-token", "BGB", 3.2, 0.6),
    ("internet-computer", "ICP", 2.9, 1.3),
    ("okb", "OKB", 2.8, 0.5),
    ("ondo-finance", "ONDO", 2.8, 1.4),
    ("paypal-usd", "PYUSD", 2.8, "stable"),
    ("mantle", "MNT", 2.7, 1.1),
    ("usd1-wlfi", "USD1", 2.7, "stable"),
    ("ethereum-classic", "ETC", 2.6, 1.1),
    ("polygon-ecosystem-token", "POL", 2.4, 1.4),
    ("kaspa", "KAS", 2.3, 1.2),
    ("jito-staked-sol", "JITOSOL", 2.3, "sol"),
    ("aster-2", "ASTER", 2.2, 1.6),
    ("vechain", "VET", 2.1, 1.3),
    ("arbitrum", "ARB", 2.0, 1.5),
    ("official-trump", "TRUMP", 2.0, 1.4),
    ("cosmos", "ATOM", 1.9, 1.3),
    ("algorand", "ALGO", 1.9, 1.3),
    ("gatechain-token", "GT", 1.9, 0.4),
    ("render-token", "RENDER", 1.8, 1.6),
    ("filecoin", "FIL", 1.6, 1.4),
    ("bonk", "BONK", 1.6, "sol"),
    ("lombard-staked-btc", "LBTC", 1.6, "btc"),
    ("pump-fun", "PUMP", 1.6, 1.7),
    ("first-digital-usd", "FDUSD", 1.5, "stable"),
    ("rocket-pool-eth", "RETH", 1.5, "eth"),
    ("worldcoin-wld", "WLD", 1.5, 1.6),
    ("jupiter-exchange-solana", "JUP", 1.5, "sol"),
    ("memecore", "M", 1.5, 0.9),
    ("fetch-ai", "FET", 1.4, 1.6),
    ("pudgy-penguins", "PENGU", 1.4, 1.7),
    ("injective-protocol", "INJ", 1.3, 1.5),
    ("sei-network", "SEI", 1.2, 1.6),
    ("blockstack", "STX", 1.2, 1.4),
    ("kucoin-shares", "KCS", 1.2, 0.4),
    ("celestia", "TIA", 1.1, 1.6),
    ("optimism", "OP", 1.1, 1.5),
    ("flare-networks", "FLR", 1.1, 1.1),
    ("quant-network", "QNT", 1.1, 1.0),
    ("the-graph", "GRT", 1.0, 1.4),
    ("lido-dao", "LDO", 1.0, 1.4),
    ("virtual-protocol", "VIRTUAL", 1.0, 1.8),
    ("immutable-x", "IMX", 0.9, 1.5),
    ("floki", "FLOKI", 0.9, 1.7),
    ("curve-dao-token", "CRV", 0.9, 1.5),
    ("theta-token", "THETA", 0.9, 1.3),
    ("pancakeswap-token", "CAKE", 0.9, 1.0),
    ("dogwifcoin", "WIF", 0.8, "sol"),
    ("iota", "IOTA", 0.8, 1.3),
    ("the-sandbox", "SAND", 0.7, 1.4),
    ("tezos", "XTZ", 0.7, 1.2),
    ("ethereum-name-service", "ENS", 0.7, 1.4),
    ("kaia", "KAIA", 0.7, 1.1),
    ("pyth-network", "PYTH", 0.7, 1.5),
    ("raydium", "RAY", 0.6, "sol"),
    ("jasmycoin", "JASMY", 0.6, 1.5),
    ("helium", "HNT", 0.6, 1.3),
)

MACRO: dict[str, tuple[float, float, str]] = {
    # series: (level a day before now, daily volatility, session)
    "spx": (6_820.0, 0.009, "us"),
    "ndx": (24_950.0, 0.012, "us"),
    "sx5e": (5_640.0, 0.009, "eu"),
    "dax": (24_280.0, 0.010, "eu"),
    "dxy": (98.9, 0.0035, "fx"),
    "us10y": (4.16, 0.016, "us"),
    "vix": (16.8, 0.065, "us"),
}
MACRO_SYMBOLS = {
    "spx": "^GSPC",
    "ndx": "^NDX",
    "sx5e": "^STOXX50E",
    "dax": "^GDAXI",
    "dxy": "DX-Y.NYB",
    "us10y": "^TNX",
    "vix": "^VIX",
}
US_HOLIDAYS = {date(2025, 12, 25), date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16)}
EU_HOLIDAYS = {
    date(2025, 12, 24),
    date(2025, 12, 25),
    date(2025, 12, 26),
    date(2025, 12, 31),
    date(2026, 1, 1),
}


@dataclass(frozen=True)
class Cascade:
    """Forced liquidations on top of the background, in the last ``hours``, where the price
    moved the ``side``'s way the most."""

    side: Literal["long", "short"]
    events: int
    share: float  # of events on ``side``
    hours: int
    size: float  # median size × this
    coins: Mapping[str, float] | None = None  # weights; default: every coin's liquidation share
    whales: Mapping[str, int] = field(default_factory=dict)  # single events above the large-liquidation bar


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    seed: int
    btc_24h_ago: float
    btc_move: float  # percent over the last 24h
    anchors: tuple[tuple[float, float], ...]  # (days before now, BTC price): the swing skeleton
    floor: tuple[float, float, float] | None = None  # (from days, to days, price): support held
    ceiling: tuple[float, float, float] | None = None  # resistance held
    moves: Mapping[str, float] = field(default_factory=dict)  # 24h % overrides
    residual_sd: float = 0.4  # alts' own 24h move around β × BTC, percent
    max_move: float | None = None  # clip every 24h move to ± this
    profile: Profile = "late"
    idio_profile: Mapping[str, Profile] = field(default_factory=dict)
    oi_change: float = 0.0  # 24h open-interest change in USD, percent
    oi_sd: float = 0.5
    oi_overrides: Mapping[str, float] = field(default_factory=dict)
    funding: tuple[float, float] = (0.0001, 0.0001)  # 8h rate a day ago, now
    funding_overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    long_share: tuple[float, float] = (0.62, 0.62)  # accounts net long a day ago, now
    long_share_overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    cascades: tuple[Cascade, ...] = ()
    macro: Mapping[str, float] = field(default_factory=dict)  # 24h % per series
    flow: Literal["perp", "spot"] = "perp"  # which market's takers lead the last day
    fear_greed: tuple[tuple[float, float], ...] = ((35, 50), (0, 50))  # (days before today, index)


# -- the scenarios --------------------------------------------------------------------------

_HISTORY = (  # shared long-run skeleton (days before now, multiple of the scenario's level)
    (400, 0.79),
    (340, 0.93),
    (300, 0.87),
    (250, 1.15),
    (215, 1.06),
    (180, 1.24),
    (150, 1.12),
    (120, 1.19),
    (95, 1.05),
    (80, 1.09),
)


def _history(level: float) -> tuple[tuple[float, float], ...]:
    return tuple((d, m * level) for d, m in _HISTORY)


SPECS: tuple[Spec, ...] = (
    Spec(
        name="selloff",
        description=(
            "A leverage-driven sell-off: BTC about -6% in 24h, most of it in the last 6 hours, "
            "breaking below the $90K support it held four times since January; alts fall by their "
            "betas; a long-liquidation cascade on Binance, Bybit and OKX; open interest down ~10%; "
            "funding flushed from elevated to about zero; macro flat."
        ),
        seed=20260310,
        btc_24h_ago=92_550,
        btc_move=-6.1,
        anchors=(
            *_history(90_000),
            (62, 90_350),
            (52, 97_600),
            (41, 90_250),
            (33, 96_800),
            (24, 90_500),
            (17, 97_300),
            (9, 90_300),
            (5, 94_800),
            (2, 93_100),
        ),
        floor=(68, 1, 89_700),
        profile="late",
        oi_change=-10.0,
        oi_sd=1.2,
        funding=(0.00045, 0.00002),
        long_share=(0.71, 0.63),
        cascades=(Cascade("long", 330, 0.86, 6, 1.9, whales={"SOL": 2, "XRP": 1, "DOGE": 1, "AVAX": 1}),),
        fear_greed=((35, 44), (20, 40), (7, 35), (2, 30), (1, 27), (0, 19)),
        macro={"spx": -0.3, "ndx": -0.45, "sx5e": -0.2, "dax": -0.25, "dxy": 0.1, "us10y": 0.3, "vix": 3.0},
        flow="perp",
    ),
    Spec(
        name="squeeze",
        description=(
            "A short squeeze: BTC about +6.5% in 24h through the $90K resistance, alts up by their "
            "betas; short liquidations dominate; open interest falls as shorts cover; funding "
            "climbs from negative back to about zero."
        ),
        seed=20260311,
        btc_24h_ago=86_050,
        btc_move=6.6,
        anchors=(
            *_history(86_000),
            (60, 84_200),
            (50, 89_600),
            (42, 83_600),
            (33, 89_700),
            (24, 84_400),
            (13, 89_500),
            (6, 85_100),
            (2, 86_900),
        ),
        ceiling=(66, 1, 90_250),
        profile="late",
        oi_change=-5.0,
        oi_sd=1.0,
        funding=(-0.00025, -0.00002),
        long_share=(0.41, 0.49),
        cascades=(Cascade("short", 300, 0.84, 8, 2.0, whales={"ETH": 1, "SOL": 1, "DOGE": 1, "SUI": 1}),),
        fear_greed=((35, 56), (20, 58), (7, 63), (1, 66), (0, 72)),
        macro={"spx": 0.2, "ndx": 0.3, "sx5e": 0.15, "dax": 0.1, "dxy": -0.05, "us10y": -0.2, "vix": -2.0},
        flow="perp",
    ),
    Spec(
        name="quiet",
        description=(
            "A quiet day: every tracked coin within ±1% over 24h, liquidations at their baseline, "
            "open interest flat, funding at the usual 0.01% per 8h, macro flat."
        ),
        seed=20260312,
        btc_24h_ago=89_650,
        btc_move=0.35,
        anchors=(
            *_history(89_000),
            (60, 93_800),
            (45, 86_300),
            (30, 94_200),
            (18, 87_100),
            (7, 92_400),
            (2, 89_300),
        ),
        moves={"ETH": 0.6, "SOL": -0.4, "XRP": 0.2},
        residual_sd=0.3,
        max_move=0.9,
        profile="flat",
        oi_change=0.0,
        oi_sd=0.3,
        macro={"spx": 0.1, "ndx": 0.15, "sx5e": -0.1, "dax": 0.05, "dxy": 0.02, "us10y": 0.2, "vix": -1.0},
    ),
    Spec(
        name="riskoff",
        description=(
            "A macro risk-off day: US and European equities down 1.5-3%, the dollar, the 10-year "
            "yield and VIX up; crypto down moderately, led by BTC with alts following their betas; "
            "spot selling leads, liquidations only moderate, open interest about flat."
        ),
        seed=20260313,
        btc_24h_ago=91_200,
        btc_move=-3.2,
        anchors=(
            *_history(89_000),
            (58, 87_900),
            (47, 94_300),
            (36, 87_700),
            (25, 95_100),
            (14, 87_800),
            (6, 93_600),
            (2, 91_900),
        ),
        floor=(62, 1, 87_400),
        profile="steady",
        oi_change=-0.3,
        oi_sd=0.2,
        funding=(0.0001, 0.00006),
        long_share=(0.63, 0.61),
        cascades=(Cascade("long", 90, 0.78, 12, 1.3),),
        fear_greed=((35, 50), (20, 46), (7, 42), (1, 38), (0, 33)),
        macro={"spx": -2.1, "ndx": -2.8, "sx5e": -1.8, "dax": -2.0, "dxy": 0.6, "us10y": 2.6, "vix": 38.0},
        flow="spot",
    ),
    Spec(
        name="coin_crash",
        description=(
            "A coin-specific crash: SOL -15% in 24h on its own news while BTC is flat (±0.5%); "
            "SOL's beta to BTC is about 1.3, so nearly all of the move is residual; SOL long "
            "liquidations spike, SOL open interest and funding fall; the rest of the market is calm."
        ),
        seed=20260314,
        btc_24h_ago=90_400,
        btc_move=0.25,
        anchors=(
            *_history(90_000),
            (55, 94_100),
            (40, 87_200),
            (26, 93_300),
            (12, 88_100),
            (5, 91_600),
            (2, 90_800),
        ),
        moves={"SOL": -15.0},
        residual_sd=0.5,
        profile="flat",
        idio_profile={"SOL": "news"},
        oi_change=0.0,
        oi_sd=0.4,
        oi_overrides={"SOL": -14.0},
        funding_overrides={"SOL": (0.0001, -0.00018)},
        long_share_overrides={"SOL": (0.68, 0.57)},
        cascades=(Cascade("long", 150, 0.9, 10, 1.6, {"SOL": 1.0}, whales={"SOL": 3}),),
        fear_greed=((35, 46), (20, 42), (7, 38), (1, 33), (0, 22)),
        macro={"spx": 0.15, "ndx": 0.2, "sx5e": 0.1, "dax": 0.1, "dxy": -0.05, "us10y": 0.1, "vix": -1.5},
    ),
)


# -- numbers --------------------------------------------------------------------------------


def sig(x: float, digits: int) -> float:
    """``x`` to ``digits`` significant digits: realistic precision, and small files."""
    return float(f"{x:.{digits}g}")


def sigs(x: F64, digits: int) -> list[float]:
    """:func:`sig` over an array at once (the candles are most of the rows)."""
    return [float(v) for v in np.char.mod(f"%.{digits}g", x)]


def _t4(rng: np.random.Generator, n: int) -> F64:
    """Unit-variance Student-t (4 degrees of freedom) draws: fat tails like real returns."""
    return np.asarray(rng.standard_t(4, n) / math.sqrt(2.0), dtype=np.float64)


def _weights(profile: Profile, n: int) -> F64:
    """How a move spreads over the last ``n`` hours (oldest first), summing to 1."""
    if profile == "late":  # most of it in the last six hours, peaking two to three hours ago
        tail = np.array([0.09, 0.13, 0.2, 0.26, 0.19, 0.13]) * 0.8
        w = np.r_[np.full(n - tail.size, 0.2 / (n - tail.size)), tail]
    elif profile == "news":  # a sharp drop ten hours ago, then a grind
        shock = np.array([0.42, 0.18, 0.1])
        before, after = n - 10, 10 - shock.size
        w = np.r_[np.full(before, 0.08 / before), shock, np.full(after, 0.22 / after)]
    elif profile == "steady":
        w = 1.0 + 0.4 * np.sin(np.linspace(0, math.pi, n))
    else:
        w = np.ones(n)
    return np.asarray(w / w.sum(), dtype=np.float64)


def _bridge(rng: np.random.Generator, sigma: F64, start: float, end: float, drift: F64 | None = None) -> F64:
    """Increments from ``start`` to exactly ``end``: fat-tailed noise (plus ``drift``), with the
    gap spread in proportion to each step's variance, as a Brownian bridge would."""
    inc = sigma * _t4(rng, sigma.size)
    if drift is not None:
        inc = inc + drift
    var = sigma**2
    inc += (end - start - inc.sum()) * var / var.sum()
    return inc


def _path(
    rng: np.random.Generator, sigma: F64, anchors: Sequence[tuple[int, float]], drift: Mapping[int, F64]
) -> F64:
    """A log-price path over knots 0..n through ``anchors`` (knot, log price); ``drift`` adds a
    shaped move to the segment ending at a knot."""
    path = np.empty(sigma.size + 1)
    points = sorted(anchors)
    k_first, v_first = points[0]
    path[k_first] = v_first
    if k_first > 0:  # before the first anchor: a free walk leading into it
        steps = sigma[:k_first] * _t4(rng, k_first)
        path[:k_first] = v_first - np.cumsum(steps[::-1])[::-1]
    k_last, v_last = points[-1]
    if k_last < sigma.size:  # after the last one: a free walk out of it
        path[k_last + 1 :] = v_last + np.cumsum(sigma[k_last:] * _t4(rng, sigma.size - k_last))
    for (k0, v0), (k1, v1) in pairwise(points):
        inc = _bridge(rng, sigma[k0:k1], v0, v1, drift.get(k1))
        path[k0 + 1 : k1 + 1] = v0 + np.cumsum(inc)
    return path


def _vol_regime(rng: np.random.Generator, n: int) -> F64:
    """Slowly varying volatility (clusters of calm and storm), mean about 1."""
    phi, sd = 0.998, 0.28
    shocks = rng.normal(0.0, sd * math.sqrt(1 - phi**2), n)
    v = np.empty(n)
    v[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        v[i] = phi * v[i - 1] + shocks[i]
    return np.asarray(np.exp(v - sd**2 / 2), dtype=np.float64)


def _seasonality(times: Sequence[datetime]) -> F64:
    """US hours busier, Asian night and weekends calmer."""
    out = np.ones(len(times))
    for i, t in enumerate(times):
        if 13 <= t.hour < 21:
            out[i] = 1.25
        elif t.hour < 7:
            out[i] = 0.85
        if t.weekday() >= 5:
            out[i] *= 0.7
    return out


# -- the market -----------------------------------------------------------------------------


@dataclass
class Market:
    """Everything simulated for one scenario, on one hourly grid ending at NOW."""

    spec: Spec
    start: datetime  # knot 0
    n: int  # hourly bars; knot n is NOW
    logp: dict[str, F64]  # knot log prices per coin
    sigma: dict[str, F64]  # per-bar volatility per coin
    bars: dict[str, dict[str, F64]]  # spot OHLCV per coin: open, high, low, close, qv, tbq
    perp: dict[str, dict[str, F64]]  # Binance perp bars (last PERP_HOURLY_DAYS) for the majors
    moves: dict[str, float]  # 24h % per coin

    def time(self, k: int) -> datetime:
        return self.start + k * HOUR

    _rel: dict[datetime, str] = field(default_factory=dict)

    def rel(self, at: datetime) -> str:
        """``at`` as a time before now; cached, since every coin shares the same bar times."""
        text = self._rel.get(at)
        if text is None:
            text = self._rel[at] = format_relative(at, NOW)
        return text


def _simulate(spec: Spec, rng: np.random.Generator) -> Market:
    day0 = datetime.combine(NOW.date(), datetime.min.time(), tzinfo=UTC) - timedelta(days=DAILY_DAYS)
    n = int((NOW - day0) / HOUR)
    times = [day0 + k * HOUR for k in range(n)]
    season = _seasonality(times)
    regime = _vol_regime(rng, n)
    last = n - 24
    event = slice(last, n)

    # BTC: through the skeleton, the last day shaped by the scenario's profile.
    sigma_btc = BTC_VOL * season * regime
    sigma_btc[event] *= 0.6  # the story, not noise, should carry the last day
    btc_now = spec.btc_24h_ago * (1 + spec.btc_move / 100)
    r_btc = math.log(btc_now / spec.btc_24h_ago)
    anchors = [(n - round(d * 24), math.log(p)) for d, p in spec.anchors if round(d * 24) > 24]
    anchors += [(last, math.log(spec.btc_24h_ago)), (n, math.log(btc_now))]
    btc = _path(rng, sigma_btc, anchors, {n: r_btc * _weights(spec.profile, 24)})
    for bound, below in ((spec.floor, True), (spec.ceiling, False)):
        if bound is None:
            continue
        k0, k1, level = n - round(bound[0] * 24), n - round(bound[1] * 24), math.log(bound[2])
        seg = btc[k0 : k1 + 1]
        crossed = seg < level if below else seg > level
        seg[crossed] = level + (level - seg[crossed]) * 0.5  # bounce off the level
    logp = {"BTC": btc}
    sigma = {"BTC": sigma_btc}

    # 24h moves: β × BTC plus a little of each coin's own, unless the story says otherwise.
    moves = {"BTC": spec.btc_move}
    for coin, cs in COINS.items():
        if coin == "BTC":
            continue
        m = spec.moves.get(coin)
        if m is None:
            m = ((1 + spec.btc_move / 100) ** cs.beta - 1) * 100 + rng.normal(0, spec.residual_sd)
        if spec.max_move is not None:
            m = max(-spec.max_move, min(spec.max_move, m))
        moves[coin] = m

    for coin, cs in COINS.items():
        if coin == "BTC":
            continue
        s = cs.idio * season * regime**0.5
        s[event] *= 0.6
        level = cs.price * (btc_now / 90_000) ** (0.5 * cs.beta) * math.exp(rng.normal(0, 0.03))
        e1 = rng.normal(0.0, 0.25)
        e2 = e1 + math.log(1 + moves[coin] / 100) - cs.beta * r_btc
        profile = spec.idio_profile.get(coin, spec.profile)
        idio = _path(rng, s, [(0, 0.0), (last, e1), (n, e2)], {n: (e2 - e1) * _weights(profile, 24)})
        a0 = math.log(level) - cs.beta * (btc[n] - btc[0]) - e2
        logp[coin] = a0 + cs.beta * (btc - btc[0]) + idio
        sigma[coin] = np.sqrt((cs.beta * sigma_btc) ** 2 + s**2)

    bars = {
        coin: _bars(rng, logp[coin], sigma[coin], COINS[coin].volume, season, spec, n, spot=True)
        for coin in COINS
    }
    perp: dict[str, dict[str, F64]] = {}
    k_perp = n - PERP_HOURLY_DAYS * 24
    for coin in MAJORS:
        basis = np.log1p(0.0003 + 0.00015 * rng.standard_normal(n + 1 - k_perp))
        perp[coin] = _bars(
            rng,
            logp[coin][k_perp:] + basis,
            sigma[coin][k_perp:],
            COINS[coin].volume * 2.5,
            season[k_perp:],
            spec,
            n - k_perp,
            spot=False,
        )
    return Market(spec=spec, start=day0, n=n, logp=logp, sigma=sigma, bars=bars, perp=perp, moves=moves)


def _bars(
    rng: np.random.Generator,
    logp: F64,
    sigma: F64,
    daily_volume: float,
    season: F64,
    spec: Spec,
    n: int,
    *,
    spot: bool,
) -> dict[str, F64]:
    """Hourly OHLC from the knots with wicks, quote volume rising with the move, and taker-buy
    quote leaning with the move (harder on the market that leads the last day)."""
    o, c = np.exp(logp[:-1]), np.exp(logp[1:])
    wick = 0.45 * sigma
    high = np.maximum(o, c) * np.exp(np.abs(rng.normal(0, 1, n)) * wick)
    low = np.minimum(o, c) * np.exp(-np.abs(rng.normal(0, 1, n)) * wick)
    z = np.diff(logp) / sigma
    qv = daily_volume / 24 * season * (0.55 + 0.55 * np.abs(z)) * np.exp(rng.normal(0, 0.25, n))
    lean = np.full(n, 0.08)
    lead_spot = spec.flow == "spot"
    lean[n - 24 :] = (0.14 if lead_spot else 0.05) if spot else (0.02 if lead_spot else 0.12)
    buy = np.clip(0.5 + lean * np.tanh(z / 1.5) + rng.normal(0, 0.02, n), 0.05, 0.95)
    return {"open": o, "high": high, "low": low, "close": c, "qv": qv, "tbq": qv * buy}


# -- sections -------------------------------------------------------------------------------


def _rows(m: Market, knots: Sequence[int], cols: Mapping[str, F64], digits: int) -> list[list[Any]]:
    """Candle rows from per-bar columns: prices to ``digits`` significant digits, base volume
    to 5, quote and taker-buy volume to 4 (taker buy never above the quote volume)."""
    price = (cols["high"] + cols["low"] + cols["close"]) / 3
    o, h, lo, c = (sigs(cols[k], digits) for k in ("open", "high", "low", "close"))
    vol = sigs(cols["qv"] / price, 5)
    qv = sigs(cols["qv"], 4)
    tbq = [min(a, b) for a, b in zip(qv, sigs(cols["tbq"], 4), strict=True)]
    times = [m.rel(m.time(k)) for k in knots]
    return [list(r) for r in zip(times, o, h, lo, c, vol, qv, tbq, strict=True)]


def _candle_rows(m: Market, b: Mapping[str, F64], first_bar: int, k0: int, digits: int) -> list[list[Any]]:
    """Hourly rows from bar ``first_bar`` on; ``k0`` is the knot of ``b``'s first bar."""
    i0 = first_bar - k0
    cols = {k: v[i0:] for k, v in b.items()}
    return _rows(m, range(first_bar, k0 + len(b["open"])), cols, digits)


def _daily_rows(m: Market, b: Mapping[str, F64], days: int, digits: int) -> list[list[Any]]:
    """Daily bars (UTC days) aggregated from the hourly ones; today's is in progress."""
    starts = [d * 24 for d in range(DAILY_DAYS - days, DAILY_DAYS + 1) if d * 24 < m.n]
    ends = [min(k + 24, m.n) for k in starts]
    vwap = (b["high"] + b["low"] + b["close"]) / 3
    base_volume = b["qv"] / vwap
    cols = {
        "open": b["open"][starts],
        "high": np.array([b["high"][a:e].max() for a, e in zip(starts, ends, strict=True)]),
        "low": np.array([b["low"][a:e].min() for a, e in zip(starts, ends, strict=True)]),
        "close": b["close"][[e - 1 for e in ends]],
        "qv": np.add.reduceat(b["qv"], starts)[: len(starts)],
        "tbq": np.add.reduceat(b["tbq"], starts)[: len(starts)],
    }
    rows = _rows(m, starts, cols, digits)
    volumes = np.add.reduceat(base_volume, starts)[: len(starts)]
    for row, v in zip(rows, sigs(volumes, 5), strict=True):
        row[5] = v  # a day's base volume is the sum of its hours', not its quote over one price
    return rows


def _candles(m: Market) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for coin in COINS:
        b = m.bars[coin]
        major = coin in MAJORS
        days = DAILY_DAYS if major else OTHER_DAILY_DAYS
        hourly_from = m.n - (HOURLY_DAYS if major else OTHER_HOURLY_DAYS) * 24
        base = {"coin": coin, "venue": "binance", "market": "spot"}
        out.append({**base, "interval": "1d", "rows": _daily_rows(m, b, days, 6)})
        out.append({**base, "interval": "1h", "rows": _candle_rows(m, b, hourly_from, 0, 6)})
    for coin, b in m.perp.items():
        k0 = m.n - PERP_HOURLY_DAYS * 24
        out.append(
            {
                "coin": coin,
                "venue": "binance",
                "market": "perp",
                "interval": "1h",
                "rows": _candle_rows(m, b, k0, k0, 6),
            }
        )
    return out


def _tickers(m: Market, rng: np.random.Generator) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for coin, cs in COINS.items():
        b, p = m.bars[coin], m.logp[coin]
        price = float(np.exp(p[m.n]))
        day = slice(m.n - 24, m.n)
        common = {
            "high_24h": sig(float(b["high"][day].max()), 6),
            "low_24h": sig(float(b["low"][day].min()), 6),
        }
        change_7d = (math.exp(p[m.n] - p[m.n - 168]) - 1) * 100
        out.append(
            {
                "coin": coin,
                "venue": "binance",
                "market": "spot",
                "price": sig(price, 6),
                "change_24h_pct": round(m.moves[coin], 3),
                "change_7d_pct": round(change_7d, 3),
                **common,
                "quote_volume_24h": sig(float(b["qv"][day].sum()), 5),
                "ts": "-3s",
                "fetched_at": "-2s",
            }
        )
        venues = ("binance", "bybit", "okx") if coin in MAJORS else ("binance", "bybit")
        for venue in venues:
            basis = 1 + 0.0003 + 0.0001 * rng.standard_normal()
            out.append(
                {
                    "coin": coin,
                    "venue": venue,
                    "market": "perp",
                    "price": sig(price * basis, 6),
                    "change_24h_pct": round(m.moves[coin] + 0.02 * rng.standard_normal(), 3),
                    **common,
                    "quote_volume_24h": sig(float(b["qv"][day].sum()) * 2.5 * VENUE_OI[venue], 5),
                    "ts": "-4s",
                    "fetched_at": "-2s" if venue == "binance" else "-20s",
                }
            )
        out.append(
            {
                "coin": coin,
                "venue": "coingecko",
                "market": "spot",
                "price": sig(price * (1 + 0.0002 * rng.standard_normal()), 6),
                "change_24h_pct": round(m.moves[coin] + 0.03 * rng.standard_normal(), 3),
                "change_7d_pct": round(change_7d + 0.05 * rng.standard_normal(), 3),
                **common,
                "quote_volume_24h": sig(float(b["qv"][day].sum()) * 9, 5),
                "market_cap": sig(price * cs.supply, 5),
                "ts": "-1m30s",
                "fetched_at": "-1m",
            }
        )
    return out


def _deriv_knots(m: Market) -> list[int]:
    """Knots of the derivatives series: hourly for the last two days, 8-hourly before."""
    first = m.n - DERIV_DAYS * 24
    return [k for k in range(first, m.n + 1) if k >= m.n - DERIV_HOURLY_HOURS or m.time(k).hour % 8 == 0]


def _oi(m: Market, rng: np.random.Generator) -> list[dict[str, Any]]:
    spec, out = m.spec, []
    first, last, n = m.n - DERIV_DAYS * 24, m.n - 24, m.n
    knots = _deriv_knots(m)
    for coin, cs in COINS.items():
        change = spec.oi_overrides.get(coin, spec.oi_change + rng.normal(0, spec.oi_sd))
        p = m.logp[coin]
        venues = ("binance", "bybit", "okx") if coin in MAJORS else ("binance", "bybit")
        for venue in venues:
            level = cs.oi * VENUE_OI[venue] / math.exp(p[last])  # in coins, a day ago
            target = math.log(level) + math.log1p(change / 100) - (p[n] - p[last])  # USD change → coins
            s = np.full(n - first, 0.0025)
            path = _path(
                rng,
                s,
                [
                    (0, math.log(level) + rng.normal(0, 0.1)),
                    (last - first, math.log(level)),
                    (n - first, target),
                ],
                {n - first: (target - math.log(level)) * _weights(spec.profile, 24)},
            )
            rows = []
            for k in knots:
                coins_oi = math.exp(path[k - first])
                rows.append([m.rel(m.time(k)), sig(coins_oi * math.exp(p[k]), 5), sig(coins_oi, 5)])
            out.append({"coin": coin, "venue": venue, "rows": rows})
    return out


def _piecewise(points: Sequence[tuple[float, float]], hours_before: float) -> float:
    """Linear interpolation on (hours before now, value) points sorted oldest first."""
    xs = [-h for h, _ in points]
    ys = [v for _, v in points]
    return float(np.interp(-hours_before, xs, ys))


def _funding(m: Market, rng: np.random.Generator) -> list[dict[str, Any]]:
    spec, out = m.spec, []
    first = NOW - timedelta(days=DERIV_DAYS)
    settlements = [
        t for k in range(m.n - DERIV_DAYS * 24, m.n + 1) if (t := m.time(k)).hour % 8 == 0 and t >= first
    ]
    for coin in COINS:
        start, end = spec.funding_overrides.get(coin, spec.funding)
        venues = ("binance", "bybit", "okx") if coin in MAJORS else ("binance", "bybit")
        for venue in venues:
            base = 0.0001 if venue != "okx" else 0.00009
            points = [(DERIV_DAYS * 24.0, base), (7 * 24.0, base), (24.0, start), (0.0, end)]
            rows = []
            for t in [*settlements, NOW]:
                h = (NOW - t).total_seconds() / 3600
                noise = 0.000004 if h == 0 else 0.00002
                rate = _piecewise(points, h) + rng.normal(0, noise)
                rows.append([m.rel(t), round(rate, 7)])
            out.append({"coin": coin, "venue": venue, "interval_hours": 8, "rows": rows})
    return out


def _long_short(m: Market, rng: np.random.Generator) -> list[dict[str, Any]]:
    spec, out = m.spec, []
    knots = _deriv_knots(m)
    for coin in COINS:
        start, end = spec.long_share_overrides.get(coin, spec.long_share)
        tilt = 0.0 if coin == "BTC" else 0.04  # alts' accounts lean long a little more
        venues = ("binance", "bybit") if coin in MAJORS else ("binance",)
        for venue in venues:
            offset = tilt + (0.02 if venue == "bybit" else 0.0)
            base = 0.6 + offset
            points = [
                (DERIV_DAYS * 24.0, base),
                (7 * 24.0, base),
                (24.0, start + offset),
                (0.0, end + offset),
            ]
            rows = []
            for k in knots:
                h = (m.n - k) * 1.0
                share = _piecewise(points, h) + rng.normal(0, 0.006 if h else 0.002)
                rows.append([m.rel(m.time(k)), round(min(0.95, max(0.05, share)), 4)])
            out.append({"coin": coin, "venue": venue, "rows": rows})
    return out


def _top_traders(m: Market, seed: int) -> list[dict[str, Any]]:
    """Binance's top traders for the majors, hourly over the last two days (what the collector
    keeps from its 30-hour fetches): by position they lean less long than the crowd and
    de-risk through a fall; by accounts they sit between. Drawn from their own generator, so
    adding them left every other section of the files unchanged."""
    rng = np.random.default_rng(seed)
    spec, out = m.spec, []
    for coin in MAJORS:
        start, end = spec.long_share_overrides.get(coin, spec.long_share)
        for basis, lean in (("position", (0.03, 0.08)), ("account", (0.01, 0.03))):
            rows = []
            for h in range(47, -1, -1):
                frac = max(0.0, min(1.0, (24 - h) / 24))  # flat until a day ago, then toward now
                share = (start - lean[0]) + ((end - lean[1]) - (start - lean[0])) * frac
                share += rng.normal(0, 0.004 if h else 0.0)
                rows.append([m.rel(NOW - timedelta(hours=h)), round(min(0.95, max(0.05, share)), 4)])
            out.append({"coin": coin, "venue": "binance", "basis": basis, "rows": rows})
    return out


@dataclass(frozen=True)
class _Event:
    at: datetime
    venue: str
    coin: str
    side: str
    price: float
    usd: float


def _liquidations(
    m: Market, rng: np.random.Generator, gap: tuple[datetime, datetime]
) -> list[dict[str, Any]]:
    """Background events at a few an hour (more when the price moves, longs when it falls),
    plus the scenario's cascades; none on Bybit while its stream was down."""
    spec = m.spec
    first = m.n - DERIV_DAYS * 24
    venues, shares = list(VENUE_LIQ), np.array(list(VENUE_LIQ.values()))
    events: list[_Event] = []

    def add(coin: str, k: int, side: str, usd: float, g: np.random.Generator = rng) -> None:
        b = m.bars[coin]
        venue = venues[int(g.choice(len(venues), p=shares))]
        at = m.time(k) + timedelta(seconds=int(g.integers(0, 3600)))
        if at > NOW or (venue == "bybit" and gap[0] <= at < gap[1]):
            return
        lo, hi = float(b["low"][k]), float(b["high"][k])
        u = float(g.uniform(0, 0.5))
        price = lo + u * (hi - lo) if side == "long" else hi - u * (hi - lo)
        events.append(_Event(at, venue, coin, side, price, usd))

    for coin, cs in COINS.items():
        z = np.diff(m.logp[coin])[first:] / m.sigma[coin][first:]
        rate = BACKGROUND_EVENTS_PER_HOUR * cs.liq * (0.5 + 0.5 * np.abs(z))
        counts = rng.poisson(rate)
        for i in np.nonzero(counts)[0]:
            p_long = float(np.clip(0.5 - 0.3 * math.tanh(z[i]), 0.15, 0.85))
            for _ in range(int(counts[i])):
                side = "long" if rng.random() < p_long else "short"
                add(
                    coin,
                    first + int(i),
                    side,
                    float(np.clip(cs.liq_usd * math.exp(rng.normal(0, 1.15)), 60, 4e6)),
                )

    for cascade in spec.cascades:
        weights = cascade.coins or {c: cs.liq for c, cs in COINS.items()}
        names = list(weights)
        w = np.array([weights[c] for c in names], dtype=np.float64)
        w /= w.sum()
        hours = list(range(m.n - cascade.hours, m.n))
        for _ in range(cascade.events):
            coin = names[int(rng.choice(len(names), p=w))]
            r = np.diff(m.logp[coin])[hours[0] : m.n]
            pressure = np.maximum(-r if cascade.side == "long" else r, 0) + 0.1 * float(np.abs(r).mean())
            k = hours[int(rng.choice(len(hours), p=pressure / pressure.sum()))]
            other = "short" if cascade.side == "long" else "long"
            side = cascade.side if rng.random() < cascade.share else other
            usd = COINS[coin].liq_usd * cascade.size * math.exp(rng.normal(0, 1.2))
            add(coin, k, side, float(np.clip(usd, 60, 8e6)))
        _whales(m, cascade, add)

    grouped: dict[tuple[str, str], list[_Event]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.at, e.venue, e.coin)):
        grouped[(e.venue, e.coin)].append(e)
    out, seq = [], 0
    for (venue, coin), evs in sorted(grouped.items()):
        rows = []
        for e in evs:
            seq += 1
            price = sig(e.price, 6)
            usd = sig(e.usd, 5)
            rows.append([m.rel(e.at), e.side, price, sig(usd / price, 5), usd, f"{spec.name}-{seq}"])
        out.append({"venue": venue, "coin": coin, "events": rows})
    return out


def _whales(m: Market, cascade: Cascade, add: Callable[..., None]) -> None:
    """A cascade's few single events big enough for a large-liquidation alert: 1.15-1.6× the
    bar (0.02% of the coin's open interest across venues, at least $100K), in the hours the price
    moved the cascade's way. Mostly coins with a lower bar, so they do not swamp the day's total;
    their own random stream, so the rest of the scenario stays as it was."""
    g = np.random.default_rng(m.spec.seed + 3)
    for coin in (c for c, count in cascade.whales.items() for _ in range(count)):
        venues = ("binance", "bybit", "okx") if coin in MAJORS else ("binance", "bybit")
        bar = max(COINS[coin].oi * sum(VENUE_OI[v] for v in venues) * 0.0002, 100_000)
        r = np.diff(m.logp[coin])[m.n - cascade.hours : m.n]
        pressure = np.maximum(-r if cascade.side == "long" else r, 0) + 0.1 * float(np.abs(r).mean())
        k = m.n - cascade.hours + int(g.choice(len(r), p=pressure / pressure.sum()))
        add(coin, k, cascade.side, bar * float(g.uniform(1.15, 1.6)), g)


# alternative.me's bands for its labels
_FNG_LABELS = ((25, "Extreme Fear"), (47, "Fear"), (55, "Neutral"), (76, "Greed"), (101, "Extreme Greed"))


def _fear_greed(m: Market) -> list[dict[str, Any]]:
    """Daily Fear & Greed readings along the story's skeleton (today's exactly, earlier days with
    a little noise), stamped at 00:00 UTC of their day as alternative.me stamps them; their own
    random stream."""
    g = np.random.default_rng(m.spec.seed + 2)
    today = datetime.combine(NOW.date(), datetime.min.time(), tzinfo=UTC)
    rows = []
    for d in range(DERIV_DAYS, -1, -1):
        day = today - timedelta(days=d)
        noise = g.normal(0, 2.5) if d else 0.0
        value = int(np.clip(round(_piecewise(m.spec.fear_greed, d) + noise), 0, 100))
        label = next(text for below, text in _FNG_LABELS if value < below)
        rows.append([m.rel(day), value, label])
    return [{"source": "alternative.me", "rows": rows}]


def _streams(gap: tuple[datetime, datetime]) -> list[dict[str, Any]]:
    """Each venue's stream connected for the whole period; Bybit's dropped once, briefly."""
    begin = format_relative(NOW - timedelta(days=DERIV_DAYS, minutes=5), NOW)
    return [
        {"venue": "binance", "connected_at": begin, "disconnected_at": None},
        {"venue": "bybit", "connected_at": begin, "disconnected_at": format_relative(gap[0], NOW)},
        {"venue": "bybit", "connected_at": format_relative(gap[1], NOW), "disconnected_at": None},
        {"venue": "okx", "connected_at": begin, "disconnected_at": None},
    ]


def _sessions(kind: str, day: date) -> tuple[datetime, datetime] | None:
    """Trading hours (UTC) of a session kind on a day, or None when closed."""
    if day.weekday() >= 5:
        return None
    base = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    if kind == "us":
        if day in US_HOLIDAYS:
            return None
        dst = day >= date(2026, 3, 8)  # US summer time from the second Sunday of March
        open_ = base + timedelta(hours=13 if dst else 14, minutes=30)
        return open_, open_ + timedelta(hours=6, minutes=30)
    if kind == "eu":
        if day in EU_HOLIDAYS:
            return None
        return base + timedelta(hours=8), base + timedelta(hours=16, minutes=30)
    return base, base + timedelta(hours=23)


def _macro(m: Market, rng: np.random.Generator) -> list[dict[str, Any]]:
    """A latent half-hourly path per series (pinned a day ago and now), read the way Yahoo
    reports it: daily bars stamped at the session open, hourly bars during the session, and
    the bar in progress closing at the latest value."""
    step = timedelta(minutes=30)
    begin = datetime.combine(
        (NOW - timedelta(days=MACRO_DAILY_DAYS + 2)).date(), datetime.min.time(), tzinfo=UTC
    )
    n = int((NOW - begin) / step)
    out: list[dict[str, Any]] = []
    for series, (level, vol, kind) in MACRO.items():
        # Pin the close a 24h move is read from: the bar in progress a day ago, which ends at
        # :30 for the US sessions (bars open at 13:30) and on the hour elsewhere.
        k_day = n - 48 + (1 if kind == "us" else 0)
        move = m.spec.macro.get(series, 0.0)
        s = np.full(n, vol / math.sqrt(48))
        start = math.log(level) + rng.normal(0, 4 * vol)
        path = _path(
            rng,
            s,
            [(0, start), (k_day, math.log(level)), (n, math.log(level * (1 + move / 100)))],
            {n: math.log1p(move / 100) * _weights("steady", n - k_day)},
        )

        def value(t: datetime, path: F64 = path) -> float:
            k = min(n, int((min(t, NOW) - begin) / step))
            return float(math.exp(path[k]))

        daily, hourly = [], []
        day = (NOW - timedelta(days=MACRO_DAILY_DAYS)).date()
        while day <= NOW.date():
            session = _sessions(kind, day)
            if session is not None and session[0] < NOW:
                daily.append([m.rel(session[0]), sig(value(session[1]), 6)])
                if day >= (NOW - timedelta(days=MACRO_HOURLY_DAYS)).date():
                    t = session[0]
                    while t < min(session[1], NOW):
                        hourly.append([m.rel(t), sig(value(min(t + HOUR, session[1])), 6)])
                        t += HOUR
            day += timedelta(days=1)
        symbol = MACRO_SYMBOLS[series]
        out.append({"series": series, "symbol": symbol, "source": "yahoo", "interval": "1d", "rows": daily})
        out.append({"series": series, "symbol": symbol, "source": "yahoo", "interval": "1h", "rows": hourly})
    return out


def _breadth_and_global(m: Market, rng: np.random.Generator) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The top 100 by market cap (tracked coins from the simulation, the rest following BTC,
    ETH or SOL by their kind) and hourly global figures over the last day."""
    registry = CoinRegistry.load()
    entries: list[dict[str, Any]] = []
    caps: dict[str, float] = {}
    for coin, cs in COINS.items():
        cap = float(np.exp(m.logp[coin][m.n])) * cs.supply
        caps[coin] = cap
        entries.append(
            {
                "id": registry.get(coin).coingecko,
                "symbol": coin,
                "change_24h_pct": round(m.moves[coin], 3),
                "market_cap": sig(cap, 5),
            }
        )
    btc = m.moves["BTC"]
    for cg_id, symbol, cap_bn, kind in OTHERS:
        if kind == "stable":
            change = rng.normal(0, 0.03)
        elif kind in ("btc", "eth", "sol"):
            change = m.moves[str(kind).upper()] + rng.normal(0, 0.08)
        else:
            change = ((1 + btc / 100) ** float(kind) - 1) * 100 + rng.normal(0, 1.0)
        if m.spec.max_move is not None and kind != "stable":
            change = max(-1.5, min(1.5, change))
        entries.append(
            {
                "id": cg_id,
                "symbol": symbol,
                "change_24h_pct": round(change, 3),
                "market_cap": sig(cap_bn * 1e9 * (1 + change / 100), 5),
            }
        )
    entries.sort(key=lambda e: -float(e["market_cap"]))
    entries = entries[:100]
    total_now = sum(float(e["market_cap"]) for e in entries) * 1.06

    index = np.zeros(m.n + 1)
    for c in COINS:
        index += COINS[c].supply * np.exp(m.logp[c])
    stats = []
    for k in range(m.n - 24, m.n + 1):
        total = total_now * float(index[k] / index[m.n])
        prev = total_now * float(index[k - 24] / index[m.n])
        btc_cap = float(np.exp(m.logp["BTC"][k])) * COINS["BTC"].supply
        eth_cap = float(np.exp(m.logp["ETH"][k])) * COINS["ETH"].supply
        stats.append(
            {
                "ts": m.rel(m.time(k)) if k < m.n else "-2m",
                "source": "coingecko",
                "total_market_cap_usd": sig(total, 6),
                "market_cap_change_24h_pct": round((total / prev - 1) * 100, 3),
                "btc_dominance_pct": round(btc_cap / total * 100, 3),
                "eth_dominance_pct": round(eth_cap / total * 100, 3),
            }
        )
    return {"at": "-2m", "entries": entries}, stats


def build(spec: Spec) -> Scenario:
    """One scenario from its spec; the same spec always builds the same scenario."""
    rng = np.random.default_rng(spec.seed)
    m = _simulate(spec, rng)
    gap_start = NOW - timedelta(days=11, hours=3, minutes=17)
    gap = (gap_start, gap_start + timedelta(minutes=23))
    breadth, global_stats = _breadth_and_global(m, rng)
    data = {
        "name": spec.name,
        "description": spec.description,
        "sample_data": True,
        "now": NOW,
        "coins": list(COINS),
        "tickers": _tickers(m, rng),
        "candles": _candles(m),
        "liquidations": _liquidations(m, rng, gap),
        "streams": _streams(gap),
        "open_interest": _oi(m, rng),
        "funding": _funding(m, rng),
        "long_short": _long_short(m, rng),
        "top_traders": _top_traders(m, spec.seed + 1),
        "macro": _macro(m, rng),
        "global_stats": global_stats,
        "fear_greed": _fear_greed(m),
        "breadth": breadth,
    }
    return Scenario.model_validate(data)


def build_all() -> dict[str, Scenario]:
    return {spec.name: build(spec) for spec in SPECS}


# -- key figures ----------------------------------------------------------------------------


def summary(s: Scenario) -> dict[str, float]:
    """Headline numbers of a scenario, computed from its rows (not from the analysis code), to
    check the stories hold and to quote them in docs."""
    now = s.now
    day = now - timedelta(hours=24)
    out: dict[str, float] = {}
    spot = {t.coin: t for t in s.tickers if t.venue == "binance" and t.market == "spot"}
    for coin in ("BTC", "ETH", "SOL"):
        if coin in spot and spot[coin].change_24h_pct is not None:
            out[f"{coin.lower()}_24h_pct"] = float(spot[coin].change_24h_pct or 0.0)
    if "BTC" in spot:
        out["btc_price"] = spot["BTC"].price
    window: dict[str, float] = defaultdict(float)
    baseline = 0.0
    base_from = day - timedelta(days=30)
    for series in s.liquidations:
        for e in series.events:
            at = s.at(e.t)
            if at >= day:
                window[e.side] += e.usd
                window["events"] += 1
            elif at >= base_from:
                baseline += e.usd
    total = window["long"] + window["short"]
    out["liq_24h_usd"] = total
    out["liq_24h_events"] = window["events"]
    out["liq_long_share"] = window["long"] / total if total else 0.0
    out["liq_baseline_24h_usd"] = baseline / 30
    out["liq_multiple"] = total / (baseline / 30) if baseline else 0.0
    for coin in ("BTC", "SOL"):
        start = end = 0.0
        for oi in s.open_interest:
            if oi.coin != coin:
                continue
            rows = {s.at(r.t): r.oi_usd for r in oi.rows}
            start += rows.get(day, 0.0)
            end += rows.get(now, 0.0)
        out[f"{coin.lower()}_oi_24h_pct"] = (end / start - 1) * 100 if start else 0.0
    fund_now = [f.rows[-1].rate for f in s.funding if f.coin == "BTC"]
    fund_then = [r.rate for f in s.funding if f.coin == "BTC" for r in f.rows if s.at(r.t) <= day][-1:]
    out["btc_funding_now"] = float(np.mean(fund_now)) if fund_now else 0.0
    out["btc_funding_day_ago"] = float(np.mean(fund_then)) if fund_then else 0.0
    for ms in s.macro:
        if ms.interval != "1h" or not ms.rows:
            continue
        before = [r for r in ms.rows if s.at(r.t) < day]
        if before:
            out[f"{ms.series}_24h_pct"] = (ms.rows[-1].close / before[-1].close - 1) * 100
    return out


def _format(figures: Mapping[str, float]) -> str:
    def one(k: str, v: float) -> str:
        if k.endswith("_usd"):
            return f"{k}={v / 1e6:.1f}M"
        if k.startswith("liq_long") or "funding" in k:
            return f"{k}={v:.5f}" if "funding" in k else f"{k}={v:.2f}"
        return f"{k}={v:.2f}" if abs(v) < 1e4 else f"{k}={v:,.0f}"

    return ", ".join(one(k, v) for k, v in figures.items())


def main(argv: Sequence[str] = (), out: Callable[[str], Any] = print) -> int:
    """Write every scenario (or those named) and the schema; print their key figures."""
    wanted = set(argv)
    unknown = wanted - {s.name for s in SPECS}
    if unknown:
        out(
            f"unknown scenario(s): {', '.join(sorted(unknown))}; choose from {', '.join(s.name for s in SPECS)}"
        )
        return 2
    SCENARIO_DIR.mkdir(parents=True, exist_ok=True)
    (SCENARIO_DIR / "schema.json").write_text(schema_json())
    for spec in SPECS:
        if wanted and spec.name not in wanted:
            continue
        scenario = build(spec)
        # gzipped: the five bundled days are ~14 MB as text, under 4 MB compressed
        size = write_scenario(scenario, SCENARIO_DIR / f"{spec.name}.json.gz")
        out(f"{spec.name}.json.gz {size / 1e6:.2f} MB: {_format(summary(scenario))}")
    return 0


# resolve_time is re-exported for callers that build scenarios by hand next to this module.
__all__ = ["SPECS", "Spec", "build", "build_all", "main", "resolve_time", "summary"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
