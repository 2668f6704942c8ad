"""CEN's EN 16931 validation of CII XML, run offline with Saxon-HE (saxonche) against the rule
files in ../shared/einvoice (see its README): the fatal rules an XML document breaks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "einvoice"
CEN_RULES = SHARED / "en16931-cii" / "EN16931-CII-validation.xslt"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def compiled_rules() -> Iterator[Callable[[bytes], list[str]]]:
    """CEN's rules, compiled once (it takes seconds): a function from XML to its fatal rule ids.
    A generator, for a session fixture."""
    with PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(
            stylesheet_file=str(CEN_RULES.resolve())
        )

        def fatal_rules(xml: bytes) -> list[str]:
            node = processor.parse_xml(xml_text=xml.decode("utf-8"))
            svrl = etree.fromstring(executable.transform_to_string(xdm_node=node).encode())
            assert svrl.tag == f"{SVRL}schematron-output"
            return [
                failed.get("id", "?")
                for failed in svrl.iter(f"{SVRL}failed-assert")
                if failed.get("flag") == "fatal"
            ]

        yield fatal_rules
