#!/usr/bin/env python
"""Django's manage.py; the `pactboard` console script does the same."""

from pactboard.cli import main

if __name__ == "__main__":
    main()
