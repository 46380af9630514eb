"""Proactive alerts: a server subscribes a channel and the bot speaks first. The engine emits
data (:mod:`bot.alerts.messages`); :mod:`bot.render.alerts` formats it and :mod:`bot.dispatch`
posts it, so nothing here imports ``bot.render``.

- :mod:`bot.alerts.config` — rule names, thresholds with their defaults, per-subscription overrides.
- :mod:`bot.alerts.models` — subscriptions, daily briefs and alert states as stored.
- :mod:`bot.alerts.messages` — what the engine emits: observations, posts, deliveries.
- :mod:`bot.alerts.inputs` — one coin's history and its state at a time ``t``, as the rules read it.
- :mod:`bot.alerts.reads` — reading that history from the store, the level zones cached.
- :mod:`bot.alerts.rules` — the rules, pure (a coin's recent state in, observations out).
- :mod:`bot.alerts.state` — the state machine (armed / fired / cooling, with hysteresis and a
  cooldown) and the decision of what fires.
- :mod:`bot.alerts.large` — large single liquidations, batched one message per channel a minute.
- :mod:`bot.alerts.service` — the evaluation cycle, liquidation-stream triggers, daily briefs.
- :mod:`bot.alerts.jobs` — the scheduler jobs.
- :mod:`bot.alerts.store` — subscriptions, alert states and briefs in the store.
- :mod:`bot.alerts.backtest` — the rules replayed over history (``tapewatch alerts backtest``,
  whose command line is :mod:`bot.alerts_cli`).

Import from the submodules (this package imports nothing, so any of them loads on its own).
"""
