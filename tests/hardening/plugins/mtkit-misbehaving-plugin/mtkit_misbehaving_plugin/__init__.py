"""Plugins that register fine but break their contract when mtkit calls them.

Each one is a mistake a real plugin makes: a dataset that returns the wrong type or
crashes on its data, a trunk whose ``build`` forgets to return, and a head that returns a
list. mtkit must name the plugin in a clear error instead of failing deep inside; a
plain bug (``buggy_metrics``) must give the "internal error, please report" paragraph.
"""

import numpy as np

import mtkit


class DictData(mtkit.Dataset):
    """Returns a plain dict from load() instead of mtkit.Splits."""

    name = "dict_data"

    def load(self, tasks, seed):
        x = np.zeros((20, 2), np.float32)
        return {"train": {"x": x}}


class CrashingData(mtkit.Dataset):
    """Crashes inside load(), as a plugin with a bug does."""

    name = "crashing_data"

    def load(self, tasks, seed):
        rows = {}
        return rows["train"]  # KeyError: a bug in the plugin


class ForgetfulTrunk(mtkit.Trunk):
    """build() forgets to return its output (returns None)."""

    name = "forgetful"

    def build(self, inputs, tasks):
        import keras

        keras.layers.Dense(4)(list(inputs.values())[0])


class ListHead(mtkit.Head):
    """build() returns a list instead of one Keras tensor."""

    name = "list_head"
    output_type = "regression"
    default_loss = "mse"

    def build(self, features, task_name):
        import keras

        return [keras.layers.Dense(1, name=task_name)(features)]


class BuggyHead(mtkit.Head):
    """metric_functions() has a bug: an unexpected exception, not a user's mistake."""

    name = "buggy_metrics"
    output_type = "regression"
    default_loss = "mse"

    def metric_functions(self):
        return {"mae": self.mae_function}  # AttributeError: there is no such method


@mtkit.hookimpl
def register_datasets(register):
    register(DictData)
    register(CrashingData)


@mtkit.hookimpl
def register_trunks(register):
    register(ForgetfulTrunk)


@mtkit.hookimpl
def register_heads(register):
    register(ListHead)
    register(BuggyHead)
