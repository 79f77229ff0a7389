"""The generator of the HTTP status code reference: content/ -> site/.

A pipeline, one module per stage, each importing only the ones before it:
problems -> cache -> load -> validate -> merge -> pages -> data -> render -> write -> serve -> cli.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project: content/, templates/, static/, site/
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
