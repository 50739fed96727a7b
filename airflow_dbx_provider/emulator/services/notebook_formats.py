"""Notebook formats the workspace API reads and writes: languages and their file types, the SOURCE
header and COMMAND separators, and the Jupyter (.ipynb) conversion both ways. A pure leaf."""

from __future__ import annotations

import json

from airflow_dbx_provider.emulator.errors import invalid_parameter

LANGUAGES = ("PYTHON", "SQL", "SCALA", "R")
EXTENSIONS = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}
FILE_TYPES = {"PYTHON": "py", "SQL": "sql", "SCALA": "scala", "R": "r"}
COMMENT = {"PYTHON": "#", "SQL": "--", "SCALA": "//", "R": "#"}


def header(language: str) -> str:
    """The first line of a SOURCE notebook, e.g. `# Databricks notebook source`."""
    return f"{COMMENT[language]} Databricks notebook source"


def jupyter_to_source(content: bytes) -> bytes:
    """An .ipynb's code cells as a PYTHON SOURCE notebook (header, cells split by COMMAND lines)."""
    try:
        notebook = json.loads(content)
        cells = [
            "".join(cell.get("source", []))
            for cell in notebook.get("cells", [])
            if cell.get("cell_type") == "code"
        ]
    except (ValueError, AttributeError, TypeError):
        raise invalid_parameter("The content is not a valid Jupyter notebook.") from None
    body = "\n\n# COMMAND ----------\n\n".join(cells)
    return f"{header('PYTHON')}\n{body}\n".encode()


def source_to_jupyter(source: str, language: str) -> bytes:
    """A SOURCE notebook as .ipynb: one code cell per COMMAND-separated part, header dropped."""
    lines = source.splitlines()
    if lines and lines[0].strip() == header(language):
        lines = lines[1:]
    cells = [c.strip("\n") for c in "\n".join(lines).split(f"{COMMENT[language]} COMMAND ----------")]
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": cell.splitlines(True),
            }
            for cell in cells
        ],
        "metadata": {"language_info": {"name": language.lower()}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1).encode()
