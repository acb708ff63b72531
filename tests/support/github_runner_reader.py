"""Plays a GitHub runner's part for tests: reads a step's stderr and prints
the workflow commands the runner would act on, one per line (a command's
name and properties; "resume" where ::stop-commands:: ends). Lines split at
\n, \r\n and a bare \r, as the runner's .NET ReadLine does; while commands
are stopped only the matching ::<token>:: line counts.

    python3 github_runner_reader.py STDERR_FILE
"""
import re
import sys

token = None
text = open(sys.argv[1], newline="").read()
for line in re.split(r"\r\n|\r|\n", text):
    if token is not None:
        if line == "::" + token + "::":
            token = None
            print("resume")
        continue
    match = re.match(r"::([A-Za-z0-9_-]+)([^:]*)::(.*)$", line)
    if not match:
        continue
    name, properties, data = match.groups()
    if name == "stop-commands":
        token = data
    print(name + properties)
