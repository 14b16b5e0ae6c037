"""`python -m regauth`."""

from regauth.cli import main

main()
