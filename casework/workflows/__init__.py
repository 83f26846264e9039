"""Case types by name. Adding a workflow is adding its module here."""
from __future__ import annotations

from .base import Workflow
from .verzuim import WORKFLOW as VERZUIM
from .vrijstelling import WORKFLOW as VRIJSTELLING

WORKFLOWS: dict[str, Workflow] = {wf.case_type: wf for wf in (VRIJSTELLING, VERZUIM)}


def get_workflow(case_type: str) -> Workflow:
    return WORKFLOWS[case_type]
