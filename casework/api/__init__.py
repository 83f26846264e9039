from flask import Blueprint

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The route modules register their views on api_bp when imported.
from . import access_log, auth, cases, children, duo, errors, letters, openapi, reference, reports  # noqa: E402, F401
