"""Syntax that opens a CSV export ready-labelled in R and in SAS.

Both read the CSV written beside them (same stem), set each variable's label, and turn
labelled codes into factors (R) or formats (SAS). SPSS and Stata need none: their files
carry the labels. Pure functions of the export's variables: text in, text out.
"""

from __future__ import annotations

import re

from .varnames import DATE, NUMERIC, STRING, stata_name


def _r_string(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _r_vector(values) -> str:
    return "c(" + ", ".join(values) + ")"


def r_script(variables: list, csv_name: str, title: str) -> str:
    classes = {NUMERIC: "numeric", STRING: "character", DATE: "character"}
    lines = [
        f"# {title}",
        "# Reads the CSV export beside this script with its codebook's labels: labelled",
        "# codes become factors, every column gets its label (attr 'label', as haven and",
        "# labelled use). Run it from the folder that holds the CSV, or set the path below.",
        f"path <- {_r_string(csv_name)}",
        "col_classes <- " + _r_vector(
            f"{_r_string(v.name)} = {_r_string(classes[v.type])}" for v in variables
        ),
        "data <- read.csv(path, colClasses = col_classes, na.strings = \"\", "
        "check.names = FALSE, encoding = \"UTF-8\")",
    ]
    for v in variables:
        col = f"data[[{_r_string(v.name)}]]"
        if v.type == DATE:
            lines.append(f"{col} <- as.Date({col})")
        if v.labels and v.type in (NUMERIC, STRING) and "codes separated" not in v.allowed:
            levels = list(v.labels)
            rendered = [str(k) if v.type == NUMERIC else _r_string(k) for k in levels]
            lines.append(
                f"{col} <- factor({col}, levels = {_r_vector(rendered)}, "
                f"labels = {_r_vector(_r_string(v.labels[k]) for k in levels)})"
            )
        lines.append(f"attr({col}, \"label\") <- {_r_string(v.label)}")
    lines.append("")
    return "\n".join(lines)


def _sas_string(value) -> str:
    return "'" + str(value).replace("'", "''").replace("\n", " ") + "'"


def _format_name(n: int, char: bool) -> str:
    # SAS format names must not end in a digit; character formats start with $.
    return f"{'$' if char else ''}F{n}L"


_SAS_NAME = re.compile(r"[^A-Za-z0-9_]")


def sas_name(name: str) -> str:
    """A SAS-valid name of at most 32 characters (the same shortening as Stata's)."""
    return stata_name(_SAS_NAME.sub("_", name))


def sas_script(variables: list, csv_name: str, title: str) -> str:
    formats: list[str] = []
    assigned: list[str] = []
    for n, v in enumerate(variables, start=1):
        if not v.labels or v.type == DATE or "codes separated" in v.allowed:
            continue
        char = v.type == STRING
        fmt = _format_name(n, char)
        values = " ".join(
            f"{_sas_string(k) if char else k} = {_sas_string(lab)}" for k, lab in v.labels.items()
        )
        formats.append(f"  value {fmt} {values};")
        assigned.append(f"  format {sas_name(v.name)} {fmt}.;")
    inputs = []
    for v in variables:
        name = sas_name(v.name)
        if v.type == NUMERIC:
            inputs.append(f"    {name}")
        elif v.type == DATE:
            inputs.append(f"    {name} :yymmdd10.")
        else:
            inputs.append(f"    {name} :$200.")
    labels = [f"  label {sas_name(v.name)} = {_sas_string(v.label[:256])};" for v in variables]
    dates = [f"  format {sas_name(v.name)} yymmdd10.;" for v in variables if v.type == DATE]
    lines = [
        f"/* {title} */",
        "/* Reads the CSV export beside this script with its codebook's labels and formats.",
        "   Set the path to the CSV file below. Names longer than 32 characters are shortened",
        "   as in the Stata file (first 27 characters, _ and 4 hex digits). */",
        f"filename export {_sas_string(csv_name)} encoding='utf-8';",
        "proc format;",
        *formats,
        "run;",
        "data export;",
        "  infile export dsd firstobs=2 lrecl=1000000 truncover;",
        "  input",
        *inputs,
        "  ;",
        *labels,
        *assigned,
        *dates,
        "run;",
        "",
    ]
    return "\n".join(lines)
