"""Factur-X / ZUGFeRD PDFs: the CII XML embedded in a PDF/A-3 invoice PDF.

factur-x makes the PDF/A-3 part that concerns the attachment: it embeds the XML as
`factur-x.xml` (AFRelationship Data, MIME type text/xml, checksum and dates), lists it in the
catalog's /AF, and writes the XMP metadata itself (pdfaid:part 3, conformance B, the Factur-X
extension schema, fx:ConformanceLevel "EN 16931") with a matching document info dictionary.
What it cannot add is what PDF/A asks of the page content, so the input PDF must bring it:

- every font embedded (fpdf2 embeds TrueType fonts added with `add_font`; the core fonts such
  as Helvetica are never embedded and make a PDF that is not PDF/A);
- an output intent with an ICC profile for the device colours the pages use (fpdf2 writes
  DeviceRGB; `add_pdfa_output_intent` adds an sRGB profile made by Pillow's littleCMS);
- no encryption, no JavaScript, no transparency.

`embed_in_pdf` refuses an input PDF that lacks the first two, rather than produce a file that
claims PDF/A-3 and is not.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from facturx import generate_from_binary
from fpdf import FPDF
from fpdf.enums import OutputIntentSubType
from fpdf.output import PDFICCProfile
from PIL import ImageCms
from pypdf import PdfReader
from pypdf.generic import DictionaryObject


def srgb_icc_profile() -> bytes:
    """An sRGB ICC profile, built by littleCMS (shipped inside Pillow)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def add_pdfa_output_intent(pdf: FPDF) -> None:
    """Declares sRGB as the output intent of an fpdf2 document, as PDF/A requires."""
    pdf.add_output_intent(
        OutputIntentSubType.PDFA,
        output_condition_identifier="sRGB",
        output_condition="sRGB IEC61966-2.1",
        registry_name="http://www.color.org",
        dest_output_profile=PDFICCProfile(contents=srgb_icc_profile(), n=3, alternate="DeviceRGB"),
        info="sRGB IEC61966-2.1",
    )


def _fonts(resources: Any) -> list[DictionaryObject]:
    if resources is None:
        return []
    fonts = resources.get_object().get("/Font")
    if fonts is None:
        return []
    return [font.get_object() for font in fonts.get_object().values()]


def _embedded(font: DictionaryObject) -> bool:
    if font.get("/Subtype") == "/Type0":
        descendants: Any = font["/DescendantFonts"].get_object()
        return all(_embedded(d.get_object()) for d in descendants)
    if font.get("/Subtype") == "/Type3":
        return True  # glyphs are content streams inside the font
    descriptor: Any = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    return any(key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def pdfa_input_problems(pdf_bytes: bytes) -> list[str]:
    """What keeps `pdf_bytes` from becoming PDF/A-3 by adding metadata and an attachment."""
    reader = PdfReader(BytesIO(pdf_bytes))
    problems: list[str] = []
    if reader.is_encrypted:
        problems.append("the PDF is encrypted")
        return problems
    root: Any = reader.trailer["/Root"].get_object()
    if not root.get("/OutputIntents"):
        problems.append("no output intent (ICC profile) for the device colours")
    missing = sorted(
        {
            str(font.get("/BaseFont", "?"))
            for page in reader.pages
            for font in _fonts(page.get("/Resources"))
            if not _embedded(font)
        }
    )
    if missing:
        problems.append(f"fonts not embedded: {', '.join(missing)}")
    return problems


def embed_in_pdf(pdf_bytes: bytes, xml_bytes: bytes, *, lang: str | None = None) -> bytes:
    """A Factur-X PDF/A-3 (profile EN 16931): `pdf_bytes` with `xml_bytes` attached.

    The XML is checked against the Factur-X EN 16931 XSD on the way (factur-x's own check;
    its Schematron check needs a Saxon server and stays off). `lang` ("de-DE") sets /Lang.
    """
    problems = pdfa_input_problems(pdf_bytes)
    if problems:
        raise ValueError("the PDF cannot become PDF/A-3: " + "; ".join(problems))
    return bytes(
        generate_from_binary(
            pdf_bytes,
            xml_bytes,
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            check_schematron=False,
            lang=lang,
        )
    )
