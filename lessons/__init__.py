"""Lesson content (YAML) and the tools that validate and run it."""
