"""Outgoing mail through SMTP (settings SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD,
SMTP_STARTTLS, MAIL_FROM). Texts are Jinja templates in templates/mail/: NAME.txt and NAME.html."""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, template: str, **context) -> EmailMessage:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=cfg["MAIL_FROM"].rpartition("@")[2] or None)
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(render_template(f"mail/{template}.html", **context), subtype="html")
    return message


def _smtp_settings() -> dict:
    cfg = current_app.config
    return {key: cfg.get(key) for key in
            ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_STARTTLS")}


def _deliver(message: EmailMessage, settings: dict) -> None:
    try:
        with smtplib.SMTP(settings["SMTP_HOST"], int(settings["SMTP_PORT"] or 25), timeout=30) as smtp:
            if settings["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())  # verifies the certificate
            if settings["SMTP_USER"]:
                smtp.login(settings["SMTP_USER"], settings["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # The message is not logged: it holds a sign-in link.
        log.error("mail %r naar de SMTP-server %s:%s mislukt: %s", message["Subject"],
                  settings["SMTP_HOST"], settings["SMTP_PORT"], exc)


def send(message: EmailMessage) -> None:
    """Send now, or just after the answer (MAIL_IN_BACKGROUND) so that how long a request takes
    does not tell whether a mail went out. Without SMTP_HOST nothing is sent (logged)."""
    settings = _smtp_settings()
    if not settings["SMTP_HOST"]:
        log.warning("geen SMTP_HOST ingesteld: mail %r niet verstuurd", message["Subject"])
        return
    if current_app.config.get("MAIL_IN_BACKGROUND"):
        threading.Thread(target=_deliver, args=(message, settings), daemon=True,
                         name="casework-mail").start()
    else:
        _deliver(message, settings)
