from visitplan.cli.main import main

raise SystemExit(main())
