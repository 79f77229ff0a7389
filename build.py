#!/usr/bin/env python3
"""Build the HTTP status code reference: content/ -> site/. The generator is the `httpref` package.

    python build.py [build] [--content DIR] [--out DIR] [--base-url URL] [--strict]
    python build.py check   [--content DIR] [--strict]
    python build.py serve   [--content DIR] [--host 127.0.0.1] [--port 8000]
    python build.py bundle  [--content DIR] [--out FILE]
"""
import sys

from httpref.cli import main

if __name__ == "__main__":
    sys.exit(main())
