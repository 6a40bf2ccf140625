"""CSV files that spreadsheet software opens safely.

A cell that begins with = + - @, a tab or a carriage return is read as a formula by Excel or
LibreOffice (OWASP « CSV injection »): a name typed by an elector, such as
=HYPERLINK("http://…"), would run in the mairie's spreadsheet. Every CSV writer of the project
goes through safe_csv_writer(), which prefixes such cells with a single quote.
"""

import csv

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


class SafeCsvWriter:
    """csv.writer whose cells are neutralised first."""

    def __init__(self, out, **fmtparams):
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, row):
        return self._writer.writerow([neutralise_cell(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def safe_csv_writer(out, **fmtparams) -> SafeCsvWriter:
    return SafeCsvWriter(out, **fmtparams)
