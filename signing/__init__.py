"""Everything that turns contract data into a signed, verifiable PDF.

The package knows nothing of HTTP or the database: it takes plain data
(:mod:`signing.document`) and bytes, and returns bytes and reports. CPU-heavy
entry points are plain functions so the app can run them in a process pool.
"""
