"""Config base classes (pydantic): every section of a run's config and every model's config derives from these.

They sit at the bottom of the package, below `config` and `models`, so that reading a config section (the data
layer reads `DataConfig`) never imports the models.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Config base: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(StrictModel):
    """Base of every model's config; `name` selects the model in the registry."""

    name: str

    def check_steps(self, steps: int) -> None:
        """Raise ValueError when a schedule of this model cannot happen within `steps` updates (train.steps)."""
