"""Read-only query functions shared by the API and the UI."""
