"""Proactive alerts: a server subscribes a channel and the bot speaks first.

- :mod:`bot.alerts.rules` — the rules, pure (a coin's recent state in, observations out), and
  their configuration with per-subscription overrides.
- :mod:`bot.alerts.engine` — the state machine (armed / fired / cooling, with hysteresis and a
  cooldown), the evaluation cycle, liquidation-stream triggers, daily briefs, scheduler jobs.
- :mod:`bot.alerts.dispatch` — posting to channels (rate-limited, isolated per channel) and the
  persistent "Why?" button.
- :mod:`bot.alerts.store` — subscriptions, alert states and briefs in the store.
- :mod:`bot.alerts.backtest` — ``tapewatch alerts backtest``: the rules replayed over history.

Import from the submodules (this package imports nothing, so any of them loads on its own).
"""
