"""Data larger than memory: Parquet shards read in chunks, never all at once.

``shards`` finds and checks the files (footer metadata only), ``splits`` carves
validation/test rows by shard or by row hash, ``stats`` fits the table schema in one
streaming pass, ``reader`` turns record batches into model arrays, ``pipeline`` builds the
training batches (``StreamEpochData``, the interface of ``EpochData``) and ``evaluate``
scores a split chunk by chunk. ``prepare`` ties them together for ``mtkit.dataprep``.
See docs/large-data.md.
"""
