"""What an error message may say. graphql-core's messages about input quote the client's values
(`…, found: {number: "4242 4242 …", cvc: "737"}`), and its suggestions spell out the schema;
a message is rewritten here before it reaches a client or a log."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

# ", found: <the value>." / ", found <literal>." at the end of a coercion or validation error
_FOUND = re.compile(r",? found:? .*$", re.S)
# A syntax error names the token it found: its kind stays, its value goes
# ('Expected Name, found String "4242 …".' -> 'Expected Name, found String.')
_FOUND_TOKEN = re.compile(r"(found (?:String|BlockString|Int|Float|Name)) .*$", re.S)
_SYNTAX = "Syntax Error:"
# "Int cannot represent non-integer value: <value>"
_CANNOT_REPRESENT = re.compile(r"(cannot represent[^:]*):.*$", re.S)
# "Variable '$x' got invalid value <value> at 'x.y'; …" (older graphql-core)
_GOT_INVALID = re.compile(r"(got invalid value ).*?( at '|; |$)", re.S)
# "Value 'FOO' does not exist in 'Reason' enum."
_ENUM_VALUE = re.compile(r"Value .*? does not exist in ('[^']*' enum)", re.S)
# " Did you mean 'customer' or 'customers'?"
_SUGGESTION = re.compile(r"\s*Did you mean .*?\?", re.S)
# Anything that could be a card number: 12 to 19 digits, whatever stands between them.
_DIGITS = re.compile(r"\d(?:[^\w'\"]{0,3}\d){11,18}")
MAX_LENGTH = 500


def safe_message(message: str, *, suggestions: bool = True) -> str:
    """The message without the client's input; without "Did you mean …?" unless `suggestions`."""
    if message.startswith(_SYNTAX):
        message = _FOUND_TOKEN.sub(r"\1.", message)
    else:
        message = _FOUND.sub(".", message)
    message = _CANNOT_REPRESENT.sub(r"\1.", message)
    message = _GOT_INVALID.sub(lambda m: m.group(1) + REDACTED + m.group(2), message)
    message = _ENUM_VALUE.sub(r"The value does not exist in \1", message)
    if not suggestions:
        message = _SUGGESTION.sub("", message)
    message = _DIGITS.sub(REDACTED, message)
    if len(message) > MAX_LENGTH:
        message = message[: MAX_LENGTH - 1] + "…"
    return message
