"""Per-group learning rates and optimizers: ``trunk.learning_rate`` / ``trunk.optimizer``
and ``tasks.<name>.learning_rate`` / ``tasks.<name>.optimizer``.

Every group whose rate or optimizer differs from ``train``'s gets its own optimizer (a
learning rate cannot be scaled into the gradients: Adam-like updates are invariant to the
gradient's scale); clipping, weight decay, EMA and the schedule's shape stay ``train``'s.

``GroupedOptimizer.apply_gradients`` hands each optimizer its own variables' gradients, so
it works with every weighting mode (the step builds one (gradient, variable) list, whatever
the mode) and under every strategy; under mixed precision one ``SharedLossScale`` sits in
front of all groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mtkit.planning import Plan


@dataclass
class Group:
    name: str            # "trunk" or a task name
    learning_rate: float
    optimizer: Any
    variables: list[Any]


class GroupedOptimizer:
    """The main optimizer (default rate) plus one per group with its own rate."""

    def __init__(self, main: Any, groups: list[Group]) -> None:
        self.main, self.groups = main, groups
        self._owner = {id(v): g.optimizer for g in groups for v in g.variables}

    @property
    def learning_rate(self) -> Any:
        return self.main.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.main.learning_rate = value

    def reset_learning_rates(self, default: float) -> None:
        """After a checkpoint restore: the config's rates win (as for a single optimizer)."""
        self.main.learning_rate = default
        for g in self.groups:
            g.optimizer.learning_rate = g.learning_rate

    def build(self, variables: list[Any]) -> None:
        self.main.build([v for v in variables if id(v) not in self._owner])
        for g in self.groups:
            g.optimizer.build(g.variables)

    def apply_gradients(self, pairs: list[tuple[Any, Any]]) -> None:
        split: dict[int, list[tuple[Any, Any]]] = {}
        by_id = {id(self.main): self.main, **{id(g.optimizer): g.optimizer for g in self.groups}}
        for g, v in pairs:
            opt = self._owner.get(id(v), self.main)
            split.setdefault(id(opt), []).append((g, v))
        for key, sub in split.items():
            by_id[key].apply_gradients(sub)

    def trackables(self) -> dict[str, Any]:
        """For the checkpoint: each group's optimizer under a stable name."""
        return {f"group_{g.name}": g.optimizer for g in self.groups}


def _sections(plan: Plan) -> dict[str, Any]:
    cfg = plan.config
    return {"trunk": cfg.trunk} | dict(cfg.tasks)


def group_rates(plan: Plan) -> dict[str, float]:
    """{"trunk" or task: rate} for the groups whose rate differs from train.learning_rate."""
    default = plan.config.train.learning_rate
    return {k: s.learning_rate for k, s in _sections(plan).items()
            if s.learning_rate is not None and s.learning_rate != default}


def group_optimizers(plan: Plan) -> dict[str, str]:
    """{"trunk" or task: optimizer name} for the groups whose optimizer differs from
    train.optimizer."""
    default = plan.config.train.optimizer
    return {k: s.optimizer for k, s in _sections(plan).items()
            if s.optimizer is not None and s.optimizer != default}


def make_grouped(plan: Plan, main: Any, assembled: Any, make: Any) -> Any:
    """``main`` alone when no group has its own rate or optimizer; else a GroupedOptimizer.
    ``make(rate, optimizer_name)`` builds an optimizer with the config's other settings."""
    train = plan.config.train
    rates, kinds = group_rates(plan), group_optimizers(plan)
    if not rates and not kinds:
        return main
    groups = []
    for name in [k for k in _sections(plan) if k in rates or k in kinds]:
        rate, kind = rates.get(name, train.learning_rate), kinds.get(name, train.optimizer)
        variables = (assembled.shared_variables if name == "trunk"
                     else assembled.head_variables.get(name, []))
        groups.append(Group(name=name, learning_rate=rate, optimizer=make(rate, kind),
                            variables=list(variables)))
    return GroupedOptimizer(main, groups)
