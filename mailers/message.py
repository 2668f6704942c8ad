"""One outgoing email, independent of how it is delivered."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as MIMEMessage


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    from_addr: str
    reply_to: str | None = None

    def to_mime(self, message_id_domain: str) -> MIMEMessage:
        """multipart/alternative with the plain text first, so HTML-capable clients pick HTML."""
        domain = message_id_domain.strip()
        if not domain:
            raise ValueError("message_id_domain must not be empty")
        mime = MIMEMessage()
        mime["Subject"] = self.subject
        mime["From"] = self.from_addr
        mime["To"] = self.to
        if self.reply_to:
            mime["Reply-To"] = self.reply_to
        mime["Date"] = email.utils.format_datetime(datetime.now(UTC))
        # RFC 3834: sent by a program, not a person, so that auto-responders (vacation
        # replies) stay silent; every message we send is transactional.
        mime["Auto-Submitted"] = "auto-generated"
        mime["Message-ID"] = email.utils.make_msgid(domain=domain)
        mime.set_content(self.text)
        mime.add_alternative(self.html, subtype="html")
        return mime
