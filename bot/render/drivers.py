"""The /why drivers in words, one field each (breadth, coin-specific, leverage, macro), with
the levels and what would stabilise the move. Every number comes straight from its finding,
with its window and source."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.analysis.findings import (
    Breadth,
    LiquidationFinding,
    MacroFinding,
    MarketCapMove,
    OIFinding,
    RegimeReason,
    SeriesMove,
    TopTradersFinding,
)
from bot.analysis.why import Driver, Stabiliser, WhyAnswer
from bot.fmt import MINUS, age, ago, money, pct, price_at, stamp
from bot.render.basis import finding_size_text
from bot.render.caveats import caveat_text, gap_text
from bot.render.phrases import level_decimals, rate_8h_text, regime_phrase, venues, zone_range
from bot.render.regime import regime_reason


def lead_text(b: Breadth) -> str:
    """Who led the move, and the numbers that say so."""
    btc, alts, expected = (
        pct(b.btc_pct or 0.0),
        pct(b.alts_median_pct or 0.0),
        pct(b.alts_expected_pct or 0.0),
    )
    return {
        "alts_while_btc_flat": f"alts moved {alts} (median) while BTC was flat ({btc})",
        "quiet": "no clear leader: BTC and the alts barely moved",
        "btc_alone": f"BTC {btc} while the alts barely moved ({alts} median against {expected} expected from their betas)",
        "alts_followed": f"BTC {btc}, alts {alts} (median) against {expected} expected from their betas: the alts followed BTC",
        "alts_beyond": f"alts {alts} (median) against {expected} expected from BTC's {btc}: the alts moved beyond BTC",
        "diverged": f"BTC {btc} and alts {alts} (median) went different ways",
        "no_btc": "no BTC change to compare the alts with",
        "no_alts": "no alts to compare BTC with",
    }[b.lead or "quiet"]


def breadth_text(b: Breadth, a: WhyAnswer) -> str:
    majors = ", ".join(f"{m.coin} {pct(m.change_pct)}" for m in b.majors)
    parts = [majors] if majors and a.inputs.coin is None else []
    counts = f"{b.n_down} of {b.n} tracked coins fell, {b.n_up} rose"
    stats = []
    if b.median_pct is not None:
        stats.append(f"median {pct(b.median_pct)}")
    if b.cap_weighted_pct is not None:
        stats.append(f"cap-weighted {pct(b.cap_weighted_pct)}")
    if stats:
        counts += f" ({', '.join(stats)})"
    parts.append(counts)
    if majors and a.inputs.coin is not None:
        parts.append(majors)
    cap = a.inputs.market_cap
    if cap is not None:
        parts.append(market_cap_text(cap))
    if b.lead is not None:
        parts.append(lead_text(b))
    beta = a.inputs.beta
    bench = a.inputs.benchmark
    if a.inputs.coin and bench is not None and bench.basis == "market" and bench.beta_reason is not None:
        parts.append(f"β unreliable: {caveat_text(bench.beta_reason)}")
    elif a.inputs.coin and beta is not None and beta.ok and beta.expected_move_pct is not None:
        parts.append(
            f"with β {beta.beta:.2f} to BTC (R² {beta.r2:.2f}, {beta.n_obs} hourly returns), "
            f"{a.inputs.coin} was expected to move {pct(beta.expected_move_pct)}"
        )
    return "; ".join(parts) + f". [{a.inputs.window}, {venues(b.sources)}]"


def market_cap_text(m: MarketCapMove) -> str:
    if not m.ok or m.change_pct is None:
        return f"total market cap: {gap_text(m.insufficient, 'no data')}"
    total = f" to {money(m.total_usd)}" if m.total_usd else ""
    return f"total market cap {pct(m.change_pct)} in {m.window}{total} ({venues(m.sources)})"


def benchmark_text(a: WhyAnswer) -> str:
    """The coin against its peers, when β could not split the move."""
    m = a.inputs.benchmark
    if m is None or m.market_pct is None or m.residual_pct is None or m.coin_move_pct is None:
        return ""
    market = f"the market moved {pct(m.market_pct)} ({m.market_basis} over {m.n_peers} other tracked coins"
    if m.market_basis == "cap-weighted" and m.median_pct is not None:
        market += f", median {pct(m.median_pct)}"
    market += ")"
    btc = f" and BTC {pct(m.btc_pct)}" if m.btc_pct is not None else ""
    return (
        f"{a.inputs.coin} moved {pct(m.coin_move_pct)} while {market}{btc}: {pct(m.residual_pct)} is its "
        f"own story. β unreliable: {gap_text(m.beta_reason, '')}, so it is measured against the market. [{m.window}]"
    )


def coin_specific_text(a: WhyAnswer) -> str:
    bench = a.inputs.benchmark
    if bench is not None and bench.basis == "market":
        return benchmark_text(a)
    b = a.inputs.beta
    if b is None or b.beta is None or b.residual_pct is None:  # the ranker only names it with these
        return ""
    return (
        f"{a.inputs.coin} moved {pct(b.coin_move_pct or 0)} while BTC moved {pct(b.btc_move_pct or 0)}; "
        f"its β of {b.beta:.2f} (R² {b.r2:.2f}, {b.window_days:.0f}d of hourly returns) predicts "
        f"{pct(b.expected_move_pct or 0)}, leaving {pct(b.residual_pct)} that is its own story. "
        f"[{b.move_window}]"
    )


def liquidation_text(liq: LiquidationFinding, totals: Sequence[LiquidationFinding]) -> str:
    if not liq.ok or liq.total_usd is None:
        return f"Liquidations: {gap_text(liq.insufficient, 'no data')}."
    text = (
        f"Liquidations ≥ {money(liq.total_usd)} in {liq.window}: longs {money(liq.long_usd or 0)}, "
        f"shorts {money(liq.short_usd or 0)}"
    )
    if liq.long_share is not None:
        text += f" ({liq.long_share:.0%} longs)"
    sized = finding_size_text(liq)
    if sized is not None:
        text += (", " if liq.basis in ("own_7d", "own_30d") else "; ") + sized
    elif liq.baseline_multiple is not None:
        text += f", {liq.baseline_multiple:.1f}× its {liq.baseline_days:.0f}-day average for {liq.window}"
    elif liq.notes:
        text += f" ({caveat_text(liq.notes[-1])})"
    others = [
        f"{t.window} {money(t.total_usd)}"
        for t in totals
        if t.ok and t.total_usd is not None and t.window != liq.window
    ]
    if others:
        text += "; " + ", ".join(others)
    return text + "."


def coverage_text(liq: LiquidationFinding, gap_minutes: int | None = None) -> str:
    since = f", covered since {stamp(liq.covered_from)}" if liq.covered_from else ""
    if liq.covered_from is not None and liq.end - liq.covered_from < timedelta(days=2):
        since = f", streaming for {age(liq.end - liq.covered_from)}"
    gaps = f", {gap_minutes} min of gaps" if gap_minutes else ""
    return f"[{venues(liq.sources)} public streams (a lower bound){since}{gaps}]"


# reasons of the regime whose figures the leverage field prints on their own lines
_REPEATED: frozenset[RegimeReason] = frozenset(
    {"small_move", "price", "forced_exits", "open_interest", "oi_flat"}
)


def leverage_text(a: WhyAnswer) -> str:
    i = a.inputs
    lines = []
    if i.regime is not None:
        # the figures follow on their own lines; keep the reasons that add something
        extra = [regime_reason(i.regime, r) for r in i.regime.reasons if r not in _REPEATED]
        label = regime_phrase(i.regime, article=False)
        lines.append(f"**{label[0].upper() + label[1:]}**" + (f": {'; '.join(extra)}." if extra else "."))
    if i.liquidations is not None:
        lines.append(liquidation_text(i.liquidations, i.liq_totals) + " " + coverage_text(i.liquidations))
    oi = i.oi
    if oi is not None and oi.ok and oi.change_pct is not None:
        text = f"Open interest {pct(oi.change_pct)} ({money(oi.change_usd or 0, plus=True)}) in {oi.window} to {money(oi.end_usd or 0)}"
        text += oi_span_note(oi)
        if i.oi_30d is not None and i.oi_30d.ok and i.oi_30d.change_pct is not None:
            text += f", {pct(i.oi_30d.change_pct)} over {span_days(i.oi_30d)}"
        lines.append(text + f". [{venues(oi.venues)}]")
    f = i.funding
    if f is not None and f.ok and f.mean_8h is not None:
        text = f"Funding {rate_8h_text(f.mean_8h)} ({f.state})"
        if f.prior_mean_8h is not None:
            text += f", from {rate_8h_text(f.prior_mean_8h)} at the window start"
        lines.append(text + f". [{venues(f.sources)}]")
    ls = i.long_short
    if ls is not None and ls.ok and ls.long_share is not None:
        text = f"{ls.long_share:.0%} of accounts net long"
        if ls.change_pp is not None:
            text += f" ({'+' if ls.change_pp >= 0 else MINUS}{abs(ls.change_pp):.1f} pp in {ls.window})"
        lines.append(text + f". [{venues(ls.sources)}]")
    if i.top_traders is not None:
        lines.append(top_traders_text(i.top_traders))
    return "\n".join(lines)


def _pp(change: float | None, window: str) -> str:
    if change is None:
        return ""
    return f" ({'+' if change >= 0 else MINUS}{abs(change):.1f} pp in {window})"


def top_traders_text(t: TopTradersFinding) -> str:
    """ "Top traders 58% long by position (−6.0 pp in 24h) while 70% of all accounts are long"."""
    if t.insufficient is not None:
        return f"Top traders: {caveat_text(t.insufficient)} (Binance only)."
    parts = []
    if t.position_long_share is not None:
        parts.append(f"{t.position_long_share:.0%} long by position{_pp(t.position_change_pp, t.window)}")
    if t.account_long_share is not None:
        parts.append(f"{t.account_long_share:.0%} by accounts{_pp(t.account_change_pp, t.window)}")
    text = "Top traders " + ", ".join(parts)
    if t.all_accounts_long_share is not None:
        text += f" while {t.all_accounts_long_share:.0%} of all accounts are long"
    return text + f". [{venues(t.sources)}]"


def span_days(oi: OIFinding) -> str:
    """The span a long change really covers, e.g. "29.8 d" (aligned to daily points)."""
    return f"{oi.span_days:.1f} d" if oi.span_days is not None else oi.window


def oi_span_note(oi: OIFinding) -> str:
    """ " (over 6.8 d)" when the window's change rests on points notably off its length."""
    if oi.span_days is None or oi.start is None or oi.end is None:
        return ""
    asked = (oi.end - oi.start).total_seconds() / 86400
    if asked <= 0 or abs(oi.span_days / asked - 1) <= 0.05:
        return ""
    hours = oi.span_days * 24
    return f" (over {hours:.1f} h)" if hours < 48 else f" (over {oi.span_days:.1f} d)"


def _series(m: SeriesMove) -> str:
    return f"{m.name} {pct(m.change_pct or 0)}"


def session_label(m: SeriesMove) -> str:
    """ "Fri", "Thu–Fri", "Tue so far": the session(s) a move covers, close to close."""
    first, last = m.first_session, m.last_session
    if first is None or last is None:
        return ""
    fmt = "%a %d %b" if (last - first).days >= 6 else "%a"
    text = f"{first:{fmt}}" if first == last else f"{first:{fmt}}–{last:{fmt}}"
    return text + (" so far" if m.live else "")


def verdict_text(m: MacroFinding) -> str:
    """What the macro verdict stood on, with the equities' mean move and the confirming gauges."""
    mean = m.equities_pct or 0.0
    falling = mean < 0
    direction = "fell" if falling else "rose"
    if m.verdict_case == "confirmed":
        names = ", ".join(next((s.name for s in m.moves if s.series == c), c) for c in m.confirming)
        return (
            f"equities {direction} ({pct(mean, digits=2)} on average) while {names} "
            f"{'rose' if falling else 'fell'}"
        )
    return {
        "no_equities": "no equity index session to read",
        "split": "equity indices moved in different directions",
        "flat": f"equities flat ({pct(mean, digits=2)} on average)",
        "no_gauges": "no dollar, yield or VIX data to confirm the equity move",
        "unconfirmed": f"equities {direction} ({pct(mean, digits=2)}) but the dollar, yields and VIX did not confirm",
    }.get(m.verdict_case or "", "")


def macro_text(m: MacroFinding) -> str:
    """ "Fri: S&P 500 −2.7%, VIX +32%; DAX −1.5%": each market's sessions, the date said once."""
    moves = [mv for mv in m.moves if mv.change_pct is not None]
    groups: dict[tuple[str, str], list[SeriesMove]] = {}
    for mv in sorted(moves, key=lambda mv: mv.region != "us"):
        groups.setdefault((mv.region, session_label(mv)), []).append(mv)
    parts, said = [], None
    for (_, label), group in groups.items():
        items = ", ".join(_series(mv) for mv in group)
        parts.append(items if label == said else f"{label}: {items}")
        said = label
    text = "; ".join(parts) or "no macro session to read"
    if m.verdict_case is not None:
        text += f" — {verdict_text(m)}"
    before = [mv for mv in moves if not mv.in_window]
    if before and len(before) == len(moves):
        text += " (the last sessions, before the window)"
    return text + f". [sessions close to close, {venues(m.sources) if m.sources else 'Yahoo'}]"


def levels_text(a: WhyAnswer) -> str | None:
    lv = a.inputs.levels
    if lv is None or not lv.ok:
        return None
    d = level_decimals(lv)
    lines = []
    for b in lv.broken[:1]:
        lines.append(
            f"Lost {b.was} at {zone_range(b.zone, d)} {ago(a.inputs.now - b.broke_at)}, now {b.zone.kind}."
        )
    if lv.nearest_support is not None:
        s = lv.nearest_support
        text = f"Support {zone_range(s, d)} ({pct(s.distance_pct)}, strength {s.strength:.2f})"
        if lv.next_below is not None:
            text += f"; below {price_at(s.low, d)} the next support is {zone_range(lv.next_below, d)}"
        lines.append(text + ".")
    if lv.nearest_resistance is not None:
        r = lv.nearest_resistance
        lines.append(f"Resistance {zone_range(r, d)} ({pct(r.distance_pct)}, strength {r.strength:.2f}).")
    if lv.at_price is not None:
        lines.append(f"The price is testing {zone_range(lv.at_price, d)}.")
    if not lines:
        return None
    return "\n".join(lines) + f" [daily and hourly swings, price {price_at(lv.price, d)}]"


def stabiliser_text(s: Stabiliser, a: WhyAnswer) -> str:
    i = a.inputs
    liq = i.liquidations
    if s.kind == "hold_support" and s.zone is not None:
        text = f"Hold support {zone_range(s.zone)} ({pct(s.zone.distance_pct)} away)"
        if s.next_zone is not None:
            text += f"; a daily close below it brings {zone_range(s.next_zone)} into focus"
        return text + "."
    if s.kind == "reclaim_level" and s.zone is not None:
        return f"Reclaim {zone_range(s.zone)}, the support it lost; until then it caps rebounds."
    if s.kind == "break_resistance" and s.zone is not None:
        text = f"Break resistance {zone_range(s.zone)} ({pct(s.zone.distance_pct)} away) to extend the move"
        if s.next_zone is not None:
            text += f"; next {zone_range(s.next_zone)}"
        return text + "."
    if s.kind in ("liquidations_slowing", "liquidations_accelerating") and liq is not None and liq.total_usd:
        hours = (liq.end - liq.start).total_seconds() / 3600
        avg = money(liq.total_usd / hours) if hours else "?"
        verb = "slowing" if s.kind == "liquidations_slowing" else "still accelerating"
        return f"Liquidations are {verb}: {money(liq.last_hour_usd or 0)} in the last hour vs {avg}/h over {liq.window}."
    f = i.funding
    if s.kind == "funding_reset" and f is not None and f.mean_8h is not None:
        prior = f" from {rate_8h_text(f.prior_mean_8h)}" if f.prior_mean_8h is not None else ""
        return f"Funding has reset to {rate_8h_text(f.mean_8h)}{prior}: the long crowding is flushed."
    if s.kind == "funding_elevated" and f is not None and f.mean_8h is not None:
        return f"Funding is still elevated at {rate_8h_text(f.mean_8h)}: longs remain crowded, more unwinds possible."
    oi = i.oi
    if s.kind == "oi_still_falling" and oi is not None and oi.change_pct is not None:
        return f"Open interest is still falling ({pct(oi.change_pct)} in {oi.window}); its flattening would mark the end of the unwind."
    if s.kind == "oi_rebuilding" and oi is not None and oi.change_pct is not None:
        return f"Open interest is rebuilding ({pct(oi.change_pct)} in {oi.window}) into the drop: new shorts could fuel a squeeze."
    return ""


DRIVER_TITLES = {
    "breadth": "Breadth",
    "coin_specific": "Coin-specific",
    "leverage": "Leverage",
    "macro": "Macro",
}


def driver_text(d: Driver, a: WhyAnswer) -> str:
    i = a.inputs
    if d.kind == "breadth" and i.breadth is not None:
        return breadth_text(i.breadth, a)
    if d.kind == "coin_specific":
        return coin_specific_text(a)
    if d.kind == "leverage":
        return leverage_text(a)
    if d.kind == "macro" and i.macro is not None:
        return macro_text(i.macro)
    return ""
