from bbal_tutorial.cli import main

raise SystemExit(main())
