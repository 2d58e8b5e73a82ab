"""Demo hardship files."""
