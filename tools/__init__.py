"""Development tools, outside the runtime package: ``python -m tools.generate_scenarios``
(re)writes the bundled sample scenarios in ``config/scenarios/``."""
