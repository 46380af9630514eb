"""``python -m bot`` is the same as the ``tapewatch`` command."""

from bot.cli import main

raise SystemExit(main())
