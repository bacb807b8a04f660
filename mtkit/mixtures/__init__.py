"""Task mixtures: tasks that live in different datasets, sampled per batch or per step.

``data.sources`` names several sources, each a dataset plugin plus the tasks it labels
(every other task is missing, so masked, for its rows). ``sources`` resolves them,
``prepare`` loads and joins them, ``sampling`` decides (numpy, seeded) which source each
row or step draws from, ``epoch_data.MixtureEpochData`` turns that into the same
``steps_per_epoch()`` / ``dataset(epoch)`` stream of global batches as
``mtkit.training.epoch_data.EpochData``, and ``evaluate`` scores each source on its own
splits. See docs/mixtures.md.
"""
