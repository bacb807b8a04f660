"""Built-in loss: focal loss (Lin et al. 2017), which down-weights easy examples."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Loss


class FocalParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gamma: float = Field(2.0, ge=0.0, description="Focusing parameter; 0 = cross-entropy.")
    alpha: float | None = Field(None, gt=0.0, lt=1.0, description="Positive-class weight.")


class Focal(Loss):
    """Focal loss -(1-p_t)^gamma log(p_t), for categorical, binary or multilabel heads."""

    name = "focal"
    Params = FocalParams
    accepts = frozenset({"categorical", "binary", "multilabel"})

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        import keras
        from keras import ops

        eps = keras.config.epsilon()
        p = ops.clip(y_pred, eps, 1.0 - eps)
        gamma = self.params.gamma
        if "int" in str(y_true.dtype):  # class index against softmax
            onehot = ops.one_hot(ops.cast(y_true, "int32"), ops.shape(p)[-1], dtype=p.dtype)
            p_t = ops.sum(onehot * p, axis=-1)
            loss = -ops.power(1.0 - p_t, gamma) * ops.log(p_t)
            return loss if self.params.alpha is None else self.params.alpha * loss
        return ops.mean(self.per_element(y_true, y_pred), axis=-1)

    def per_element(self, y_true: Any, y_pred: Any) -> Any:
        """Each label's focal loss of a binary/multilabel row (``per_example`` is their
        mean), for multilabel class weights."""
        import keras
        from keras import ops

        eps = keras.config.epsilon()
        p = ops.clip(y_pred, eps, 1.0 - eps)
        y = ops.reshape(ops.cast(y_true, p.dtype), ops.shape(p))
        p_t = y * p + (1.0 - y) * (1.0 - p)
        loss = -ops.power(1.0 - p_t, self.params.gamma) * ops.log(p_t)
        if self.params.alpha is not None:
            loss = loss * (y * self.params.alpha + (1.0 - y) * (1.0 - self.params.alpha))
        return loss


@hookimpl
def register_losses(register):
    register(Focal)
