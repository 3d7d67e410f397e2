import warnings

# pyHanko imports cryptography's DSA key type when it loads, which cryptography 51
# deprecates with a warning on stderr: nothing here uses DSA, and what the command line
# prints is for its user (a configuration error is one line).
warnings.filterwarnings("ignore", message="DSA is deprecated")

from server.cli import main  # noqa: E402

raise SystemExit(main())
