from votectl.cli import main

raise SystemExit(main())
