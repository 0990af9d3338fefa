#!/usr/bin/env python
"""Django's command-line utility for SKAM."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skam.settings")
    from django.core.management import execute_from_command_line

    from governance.record.context import command_origin, process_origin_set

    # The record names the command behind each write it makes (governance/record/).
    process_origin_set(command_origin(sys.argv))
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
