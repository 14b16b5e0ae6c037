"""Renderers turn a Report into text, JSON, JUnit or annotations. They never compute a result."""
