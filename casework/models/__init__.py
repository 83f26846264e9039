"""All models; importing this package registers every table on Base.metadata."""
from .audit import AccessLog, AccessLogSeal, AuditEvent, AuditSeal
from .base import Base, utcnow
from .beheer import AdminChange, GemeenteInstellingen
from .case import ALL_STATES, CASE_TYPES, Case, MedicalNote
from .child import Child, parent_children
from .letter import Letter
from .organisation import Organisation, jgz_gemeenten, swv_buren, swv_gemeenten
from .reference import ReferenceCounter
from .schoolvakantie import Schoolvakantie
from .user import (
    PROFESSIONAL_ROLES, ROLES, ApiToken, LoginAttempt, PasswordResetToken, RecoveryCode, User, UserSession,
    new_session_nonce,
)

__all__ = [
    "ALL_STATES", "CASE_TYPES", "ROLES", "AccessLog", "AdminChange", "GemeenteInstellingen", "AccessLogSeal", "ApiToken", "AuditEvent", "AuditSeal", "Base",
    "Case", "Child", "Letter", "LoginAttempt", "MedicalNote", "Organisation", "PasswordResetToken",
    "PROFESSIONAL_ROLES", "RecoveryCode", "ReferenceCounter", "Schoolvakantie", "User", "UserSession",
    "jgz_gemeenten",
    "new_session_nonce", "parent_children", "swv_buren", "swv_gemeenten", "utcnow",
]
