"""The knobs of :func:`bot.analysis.levels.find_levels`, with why each has its value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class LevelsConfig:
    fractal_width_1d: int = 2  # bars either side a swing point must exceed
    fractal_width_1h: int = 4  # wider on hourly bars, whose small swings are noise
    atr_period: int = 14
    cluster_atr: float = 0.3  # clustering tolerance: density bandwidth, × ATR
    max_zone_atr: float = 1.0  # a zone is never wider than this × ATR
    min_zone_atr: float = 0.15  # a lone swing point still spans this × ATR
    weight_1d: float = 1.0
    weight_1h: float = 0.35
    halflife_1d_days: float = 120.0  # a daily touch counts half after this long
    halflife_1h_days: float = 7.0
    volume_clip: tuple[float, float] = (0.5, 2.0)  # bounds on a touch's relative-volume factor
    confluence_atr: float = 0.15  # an average or round number this close (× ATR) to a zone counts
    ma_bonus: float = 0.6  # per moving average inside the zone
    round_major_bonus: float = 0.5  # a multiple of the price's power of ten (e.g. $70K on BTC)
    round_half_bonus: float = 0.3  # a multiple of half of it ($65K)
    hvn_ratio: float = 1.3  # volume density in the zone vs around it that counts as "high volume"
    hvn_window_atr: float = 4.0  # "around it": this many ATRs either side of the zone's middle
    hvn_bonus: float = 0.5
    strength_scale: float = 3.0
    min_strength: float = 0.12  # weaker zones are not reported
    max_distance_pct: float = 35.0  # zones farther than this from the price are not reported
    max_per_side: int = 6
    broken_lookback: timedelta = field(default=timedelta(hours=72))
    min_daily_bars: int = 20
    min_hourly_bars: int = 48
