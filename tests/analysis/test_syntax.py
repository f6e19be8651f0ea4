"""The R and SAS scripts written beside a CSV export open it ready-labelled."""

import csv
import json
import re
import shutil
import subprocess

import pytest

from analysis import exports
from tests.analysis.exportdata import make_trial_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def csv_export(betterback, tmp_path):
    make_trial_data(betterback, per_clinic=2)
    path = tmp_path / "bb wide.csv"  # a space: the scripts must quote the path
    exports.write_export(betterback, path, "csv", "wide", "score")
    with open(path.with_name(path.stem + "_codebook.csv"), encoding="utf-8") as fh:
        book = list(csv.DictReader(fh))
    return path, book


def test_every_csv_export_comes_with_an_r_and_a_sas_script(csv_export):
    path, _ = csv_export
    assert path.with_suffix(".R").is_file() and path.with_suffix(".sas").is_file()


@pytest.mark.skipif(
    shutil.which("Rscript") is None, reason="R is not installed (apt-get install r-base-core)"
)
def test_the_r_script_reproduces_the_codebook_labels(csv_export):
    path, book = csv_export
    probe = (
        f'setwd({json.dumps(str(path.parent))}); source({json.dumps(path.with_suffix(".R").name)});'
        "out <- lapply(names(data), function(n) list(name = n, label = attr(data[[n]], 'label'),"
        " levels = if (is.factor(data[[n]])) levels(data[[n]]) else NULL,"
        " class = class(data[[n]])[1]));"
        "cat(nrow(data), '\\n');"
        "for (o in out) cat(o$name, '\\t', o$label, '\\t', paste(o$levels, collapse = '|'),"
        " '\\t', o$class, '\\n', sep = '')"
    )
    result = subprocess.run(
        ["Rscript", "-e", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert int(lines[0]) == 6  # participants, one row each
    seen = {}
    for line in lines[1:]:
        name, label, levels, kind = line.split("\t")
        seen[name] = (label, levels, kind)
    for var in book:
        label, levels, kind = seen[var["name"]]
        assert label == var["label"]
        if var["type"] == "date":
            assert kind == "Date"
        labelled = [part.split("=", 1)[1] for part in var["value_labels"].split("; ") if part]
        if labelled and "codes separated" not in var["allowed_values"]:
            assert levels.split("|") == labelled, var["name"]
    # A labelled value reads as its label: the cluster of a participant at Motala is West.
    assert "West (W)" in seen["cluster"][1]


def test_the_sas_script_labels_every_variable_and_formats_every_labelled_code(csv_export):
    path, book = csv_export
    sas = path.with_suffix(".sas").read_text(encoding="utf-8")
    assert f"filename export '{path.name}'" in sas
    labels = dict(re.findall(r"^  label (\S+) = '((?:[^']|'')*)';$", sas, re.M))
    formats = dict(re.findall(r"^  format (\S+) (\$?F\d+L)\.;$", sas, re.M))
    values = dict(re.findall(r"^  value (\$?F\d+L) (.*);$", sas, re.M))
    for var in book:
        name = exports.stata_name(var["name"])
        assert labels[name].replace("''", "'") == var["label"][:256]
        pairs = [p for p in var["value_labels"].split("; ") if p]
        if pairs and var["type"] != "date" and "codes separated" not in var["allowed_values"]:
            for pair in pairs:
                code, label = pair.split("=", 1)
                code = f"'{code}'" if var["type"] == "string" else code
                assert f"{code} = '{label.replace(chr(39), chr(39) * 2)}'" in values[formats[name]]
    inputs = re.search(r"  input\n(.*?)\n  ;", sas, re.S).group(1).split("\n")
    assert [line.split()[0] for line in inputs] == [exports.stata_name(v["name"]) for v in book]
