"""Everything that turns contract data into a signed, verifiable PDF.

The package knows nothing of HTTP or the database: it takes plain data
(:mod:`signing.document`) and bytes, and returns bytes and reports. CPU-heavy
entry points are plain functions so the app can run them in a process pool.
"""

import warnings

# pyHanko imports cryptography's DSA key type when it loads, which cryptography 51
# deprecates with a warning on stderr. Nothing here uses DSA, and every process that
# loads pyHanko does it through this package (the command line, whose configuration
# error is one line; the workers; the CPU pools), so it is silenced once, here.
warnings.filterwarnings("ignore", message="DSA is deprecated")
