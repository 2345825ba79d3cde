"""`python -m clinlabel` runs the command-line interface."""

from clinlabel.cli import main

if __name__ == "__main__":
    main()
