"""DUO: upload a verzuim file (proefimport first), download the status report for DUO."""
from __future__ import annotations

import base64
import binascii
from datetime import date

from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField
from wtforms.validators import InputRequired, ValidationError

from . import BaseForm, DatumField


class DuoImportForm(BaseForm):
    bestand = FileField("CSV-bestand met verzuimmeldingen van DUO",
                        render_kw={"accept": ".csv,text/csv,text/plain"})
    proefimport = BooleanField("Alleen controleren (proefimport)", default=True)
    # After a clean proefimport the same file comes back here, so the LPA need not upload it again.
    inhoud = HiddenField()

    def validate_bestand(self, field) -> None:
        if not self._uploaded() and not (self.inhoud.data or "").strip():
            raise ValidationError("Kies het CSV-bestand dat u wilt importeren.")

    def _uploaded(self):
        upload = self.bestand.data
        return upload if upload is not None and getattr(upload, "filename", "") else None

    def file_bytes(self) -> bytes:
        upload = self._uploaded()
        if upload is not None:
            return upload.read()
        try:
            return base64.b64decode((self.inhoud.data or "").encode("ascii"), validate=True)
        except (binascii.Error, ValueError):
            return b""

    @staticmethod
    def encode(file_bytes: bytes) -> str:
        return base64.b64encode(file_bytes).decode("ascii")


class DuoExportForm(BaseForm):
    van = DatumField("Ontvangen vanaf", validators=[InputRequired("Vul de begindatum in.")])
    tot = DatumField("Ontvangen tot en met", validators=[InputRequired("Vul de einddatum in.")])

    def setup(self, today: date) -> DuoExportForm:
        if self.van.data is None and not self.van.raw_data:
            self.van.data = date(today.year, 1, 1)
        if self.tot.data is None and not self.tot.raw_data:
            self.tot.data = today
        return self

    def validate_tot(self, field) -> None:
        if self.van.data and field.data and field.data < self.van.data:
            raise ValidationError("Kies een einddatum op of na de begindatum.")


class DuoVrijstellingenForm(BaseForm):
    van = DatumField("Lopend op of na", validators=[InputRequired("Vul de begindatum in.")])
    tot = DatumField("Ingegaan op of voor", validators=[InputRequired("Vul de einddatum in.")])

    def setup(self, today: date) -> DuoVrijstellingenForm:
        """Default: the current school year so far (1 August up to today)."""
        start = date(today.year if today.month >= 8 else today.year - 1, 8, 1)
        if self.van.data is None and not self.van.raw_data:
            self.van.data = start
        if self.tot.data is None and not self.tot.raw_data:
            self.tot.data = today
        return self

    def validate_tot(self, field) -> None:
        if self.van.data and field.data and field.data < self.van.data:
            raise ValidationError("Kies een einddatum op of na de begindatum.")
