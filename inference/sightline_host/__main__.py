from sightline_host.cli import main

raise SystemExit(main())
