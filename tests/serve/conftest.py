from tests.export.fixtures import exported_model, trained_run  # noqa: F401  (fixtures)
