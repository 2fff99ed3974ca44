"""A cited constant: the unit of the parameter table every default comes from."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One default constant of the model.

    The config key is `kinetics.<name>`; `name` ends in its unit (STYLE.md). `source` is
    "authors year, journal, DOI, location" or starts with "assumed:" followed by the reasoning.
    `lower`/`upper` are the physically allowed range used by validation and by fits.
    """

    name: str
    value: float
    unit: str
    meaning: str
    source: str
    lower: float = 0.0
    upper: float = float("inf")
    lower_open: bool = False

    @property
    def assumed(self) -> bool:
        return self.source.startswith("assumed")
