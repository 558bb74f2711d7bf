"""`python -m interactiveai` runs the command line."""

from interactiveai.cli import main

if __name__ == "__main__":
    main()
