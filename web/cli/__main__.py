"""`python -m web.cli` runs the `giaoban` command."""

from web.cli.main import main

raise SystemExit(main())
