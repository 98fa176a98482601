"""``python -m notifier`` is the same as the ``notifier`` command."""

import sys

from notifier.cli.commands import main

sys.exit(main())
