"""Tables in, preprocessing inside the model: feature schemas, statistics, readers, layers.

A table dataset (``csv``, ``parquet``, ``table``, ``dataframe``) yields *raw* columns:
numbers as float32 with NaN for a missing cell, categories as strings ("" = missing).
The schema (``features:`` in the config, or inferred) says what each column is; its
statistics (means, standard deviations, vocabularies) are fitted on the train split only
and stored in the run (``run.json`` and ``features.yaml``). The model itself standardises,
imputes and looks categories up, so ``model.keras`` and ``model.onnx`` take raw rows.

Modules: ``schema`` (types and the fitted schema), ``infer`` (types from data),
``stats`` (streaming accumulators), ``values`` (cell conversion and checks, numpy only),
``readers`` (CSV / Parquet / JSON lines / DataFrame), ``targets`` (label vocabularies,
regression standardisation), ``prepare`` (the hook dataprep calls), ``keras_model`` and
``layers`` (the Keras side), ``onnx_lookup`` (the ONNX side), ``rows`` (runtime input).
"""
