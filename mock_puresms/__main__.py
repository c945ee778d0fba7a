"""``python -m mock_puresms`` is the ``mock-puresms`` command."""

from mock_puresms.cli import main

raise SystemExit(main())
