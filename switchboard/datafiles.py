"""Dated data files (the price table, the tier ladder): read a YAML file into its pydantic model."""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from switchboard.errors import UserError

M = TypeVar("M", bound=BaseModel)


def load_model(model: type[M], path: Path, what: str) -> M:
    """`path` validated as `model`; UserError naming `what`, the file and the first mistake."""
    try:
        return model.model_validate(yaml.safe_load(Path(path).read_text()) or {})
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read the {what} {path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise UserError(f"{what} {path}: {where}: {first['msg']} (fix the file)") from None
