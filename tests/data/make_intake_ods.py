#!/usr/bin/env python3
"""Writes tests/data/intake.ods: the clinic export of tests/files.rs as a LibreOffice sheet
(typed cells: text ids, float ages and weights, booleans, a date, trailing empty rows).
Run it from the repository root to regenerate the committed file; it needs only Python."""
import zipfile
from xml.sax.saxutils import escape

HEADER = ["N° dossier", "Nom", "Âge", "Tension systolique", "Poids (kg)", "Grossesse",
          "Manie actuelle", "Date de visite"]
ROWS = [
    ["00123", "Lefèvre, Chloé", 41, "122 mmHg", 63.5, "Pas enceinte", False, "2024-03-01"],
    ["00124", "Müller", 67, "146 mmHg", 48.2, "Non concernée", False, "2024-03-01"],
    ["00125", "Ødegård", 29, 118, 70, "Enceinte", False, "2024-03-02"],
    ["00126", "Núñez", 35, "185 mmHg", 80, "Pas enceinte", True, "2024-03-02"],
    ["00127", "Dupré", 52, None, 71.0, "Pas enceinte", False, "2024-03-04"],
    ["00128", "Zoë", 44, "130 kg", 60, "Pas enceinte", False, "2024-03-04"],
]


def cell(value, date=False):
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        v = "true" if value else "false"
        return (f'<table:table-cell office:value-type="boolean" office:boolean-value="{v}">'
                f"<text:p>{v.upper()}</text:p></table:table-cell>")
    if isinstance(value, (int, float)):
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    if date:
        return (f'<table:table-cell office:value-type="date" office:date-value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'


def row(values, dates=False):
    cells = "".join(cell(v, date=dates and i == len(values) - 1) for i, v in enumerate(values))
    return f"<table:table-row>{cells}</table:table-row>"


rows = [row(HEADER)] + [row(r, dates=True) for r in ROWS]
# Two empty rows, as a sheet that was once longer keeps them.
rows += ['<table:table-row><table:table-cell office:value-type="string"><text:p></text:p></table:table-cell></table:table-row>'] * 2
content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Intake">{"".join(rows)}</table:table>
<table:table table:name="Lists"><table:table-row>{cell("Pas enceinte")}</table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>
"""
manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""
with zipfile.ZipFile("tests/data/intake.ods", "w") as z:
    z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
               compress_type=zipfile.ZIP_STORED)
    z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
