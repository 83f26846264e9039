"""Case types by name. Adding a workflow is adding its module here."""
from __future__ import annotations

from .base import Workflow
from .vrijstelling import WORKFLOW as VRIJSTELLING

WORKFLOWS: dict[str, Workflow] = {VRIJSTELLING.case_type: VRIJSTELLING}


def get_workflow(case_type: str) -> Workflow:
    return WORKFLOWS[case_type]
