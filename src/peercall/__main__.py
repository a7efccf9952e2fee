from peercall.cli import main

raise SystemExit(main())
